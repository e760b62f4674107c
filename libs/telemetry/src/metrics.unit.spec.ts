import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createServiceMetrics, getServiceMetrics, prometheusContentType } from './metrics';

describe('service metrics', () => {
  it('renders default process metrics and the HTTP metrics in Prometheus text format', async () => {
    const metrics = createServiceMetrics();
    metrics.recordHttpRequest({ method: 'GET', route: '/models/:id', status: 200, durationSeconds: 0.004 });
    metrics.recordHttpRequest({ method: 'GET', route: '/models/:id', status: 200, durationSeconds: 0.02 });
    const text = await metrics.render();
    assert.match(text, /^process_cpu_seconds_total \d/m);
    assert.match(text, /^loopline_http_requests_total\{method="GET",route="\/models\/:id",status="200"\} 2$/m);
    assert.match(text, /^loopline_http_request_duration_seconds_count\{method="GET",route="\/models\/:id",status="200"\} 2$/m);
    assert.match(text, /^loopline_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/models\/:id",status="200"\} 1$/m);
  });

  it('declares the HTTP counter even before the first request', async () => {
    assert.match(await createServiceMetrics().render(), /^# TYPE loopline_http_requests_total counter$/m);
  });

  it('keeps one registry per process', () => {
    assert.equal(getServiceMetrics(), getServiceMetrics());
  });

  it('serves the 0.0.4 text exposition content type', () => {
    assert.match(prometheusContentType, /^text\/plain; version=0\.0\.4/);
  });
});
