import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { HotPathSampler, sampledTraceparent, untracedHotRequest } from './hot-paths';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const sampled = `00-${traceId}-b7ad6b7169203331-01`;
const unsampled = `00-${traceId}-b7ad6b7169203331-00`;

describe('hot paths', () => {
  it('reads the sampled flag of a traceparent header', () => {
    assert.equal(sampledTraceparent({ traceparent: sampled }), true);
    assert.equal(sampledTraceparent({ traceparent: unsampled }), false);
    assert.equal(sampledTraceparent({}), false);
    assert.equal(sampledTraceparent({ traceparent: 'garbage' }), false);
  });

  it('leaves a hot HTTP path untraced unless the caller samples it; other paths are traced', () => {
    const paths = new Set(['/v1/online-features']);
    assert.equal(untracedHotRequest(paths, '/v1/online-features', {}), true);
    assert.equal(untracedHotRequest(paths, '/v1/online-features?x=1', { traceparent: unsampled }), true);
    assert.equal(untracedHotRequest(paths, '/v1/online-features', { traceparent: sampled }), false);
    assert.equal(untracedHotRequest(paths, '/v1/push', {}), false);
    assert.equal(untracedHotRequest(new Set(), '/v1/online-features', {}), false);
  });

  it('records no server span of a hot gRPC method without a sampled parent, and follows the parent otherwise', () => {
    const sampler = new HotPathSampler({ grpcMethods: ['pkg.Service/Get'] });
    const decide = (context: typeof ROOT_CONTEXT, name: string, kind = SpanKind.SERVER) => sampler.shouldSample(context, traceId, name, kind, {}).decision;
    assert.equal(decide(ROOT_CONTEXT, 'grpc.pkg.Service/Get'), SamplingDecision.NOT_RECORD);
    assert.equal(decide(ROOT_CONTEXT, 'grpc.pkg.Service/Push'), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide(ROOT_CONTEXT, 'grpc.pkg.Service/Get', SpanKind.CLIENT), SamplingDecision.RECORD_AND_SAMPLED);
    const parent = (flags: TraceFlags) => trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId: 'b7ad6b7169203331', traceFlags: flags, isRemote: true });
    assert.equal(decide(parent(TraceFlags.SAMPLED), 'grpc.pkg.Service/Get'), SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide(parent(TraceFlags.NONE), 'grpc.pkg.Service/Push'), SamplingDecision.NOT_RECORD);
  });
});
