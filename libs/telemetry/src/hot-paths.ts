import type { IncomingHttpHeaders } from 'node:http';
import { SpanKind, trace, TraceFlags, type Attributes, type Context } from '@opentelemetry/api';
import { SamplingDecision, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace-base';

/**
 * Request paths a service serves at high rates where a span per request would cost more than the
 * work itself (the feature store's online reads: a few microseconds of lookups under ~0.1 ms of
 * tracing). They are traced only when the caller's own trace is sampled (an incoming
 * `traceparent` with the sampled flag), so a traced caller still sees the hop; otherwise they
 * create no recorded spans at all.
 */
export interface HotPaths {
  /** HTTP paths (exact, without the query string), e.g. `/v1/online-features`. */
  readonly httpPaths?: readonly string[];
  /** gRPC methods as `package.Service/Method`. */
  readonly grpcMethods?: readonly string[];
}

/** `traceparent: 00-<trace id>-<span id>-<flags>`: whether its sampled bit is set. */
export function sampledTraceparent(headers: IncomingHttpHeaders): boolean {
  const header = headers.traceparent;
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string' || value.length < 55) return false;
  const flags = Number.parseInt(value.slice(53, 55), 16);
  return Number.isInteger(flags) && (flags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

/** Whether an incoming HTTP request on a hot path should go untraced (it has no sampled parent). */
export function untracedHotRequest(paths: ReadonlySet<string>, url: string | undefined, headers: IncomingHttpHeaders): boolean {
  if (paths.size === 0 || url === undefined) return false;
  const query = url.indexOf('?');
  return paths.has(query < 0 ? url : url.slice(0, query)) && !sampledTraceparent(headers);
}

/**
 * The SDK's default decision (follow the parent; record every root span) except for a server span
 * of a hot gRPC method without a sampled parent, which is not recorded, and so neither are its
 * children (they follow it).
 */
export class HotPathSampler implements Sampler {
  private readonly grpcSpanNames: ReadonlySet<string>;

  constructor(paths: HotPaths) {
    // The gRPC instrumentation names a server span `grpc.<package.Service>/<Method>`.
    this.grpcSpanNames = new Set((paths.grpcMethods ?? []).map((method) => `grpc.${method}`));
  }

  shouldSample(parentContext: Context, _traceId: string, spanName: string, spanKind: SpanKind, _attributes: Attributes): SamplingResult {
    const parent = trace.getSpanContext(parentContext);
    if (parent && trace.isSpanContextValid(parent)) {
      return { decision: (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    }
    if (spanKind === SpanKind.SERVER && this.grpcSpanNames.has(spanName)) return { decision: SamplingDecision.NOT_RECORD };
    return { decision: SamplingDecision.RECORD_AND_SAMPLED };
  }

  toString(): string {
    return `HotPathSampler{grpc: ${[...this.grpcSpanNames].join(', ') || 'none'}}`;
  }
}
