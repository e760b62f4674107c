import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createLogger } from './logger';
import { startTelemetry } from './tracing';

/** Collects the JSON lines a logger writes. */
function captureLines(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('telemetry', () => {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor(exporter);
  const shutdown = startTelemetry({ serviceName: 'loopline-test', spanProcessors: [processor] });
  after(() => shutdown());

  describe('startTelemetry', () => {
    it('returns the running shutdown when called again', () => {
      assert.equal(startTelemetry({ serviceName: 'loopline-other' }), shutdown);
    });

    it('records spans in-process, named by the service, without an OTLP endpoint', async () => {
      trace.getTracer('test').startActiveSpan('materializeFeatureView', (span) => span.end());
      await processor.forceFlush();
      const [recorded] = exporter.getFinishedSpans();
      assert.equal(recorded?.name, 'materializeFeatureView');
      assert.equal(recorded?.resource.attributes['service.name'], 'loopline-test');
    });
  });

  describe('createLogger', () => {
    it('writes JSON lines with the service and the trace and span ids of the active span', () => {
      const { lines, stream } = captureLines();
      const logger = createLogger({ service: 'registry', level: 'info', destination: stream });
      let ids: { traceId: string; spanId: string } | undefined;
      trace.getTracer('test').startActiveSpan('promoteModelVersion', (span) => {
        ids = span.spanContext();
        logger.info('promoted');
        span.end();
      });
      logger.info('outside any span');
      assert.equal(lines.length, 2);
      assert.deepEqual(
        { service: lines[0]?.service, level: lines[0]?.level, msg: lines[0]?.msg, trace_id: lines[0]?.trace_id, span_id: lines[0]?.span_id },
        { service: 'registry', level: 'info', msg: 'promoted', trace_id: ids?.traceId, span_id: ids?.spanId },
      );
      assert.equal(lines[1]?.trace_id, undefined);
    });

    it('drops lines below its level', () => {
      const { lines, stream } = captureLines();
      createLogger({ service: 'registry', level: 'warn', destination: stream }).info('not written');
      assert.equal(lines.length, 0);
    });
  });
});
