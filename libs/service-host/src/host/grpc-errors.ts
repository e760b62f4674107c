// The one place a service's gRPC API maps errors to statuses: every LooplineError through
// `grpcStatusOf` (its details as JSON in the trailing metadata `loopline-error-details`), an
// RpcException or an error already carrying a gRPC status code as it is, anything else INTERNAL
// with its message withheld. The host's global exception filter applies it to every unary and
// server-streaming handler; client-streaming handlers that answer through a callback call
// `grpcErrorOf` themselves. Imported through `@loopline/service-host/grpc-errors`, not the package
// index, because it loads grpc-js (which telemetry must instrument before anything loads it).
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';
import { grpcStatusOf, isLooplineError } from '@loopline/errors';

export type GrpcError = Pick<ServiceError, 'code' | 'details' | 'metadata' | 'message' | 'name'>;

export const errorDetailsKey = 'loopline-error-details';

export function grpcErrorOf(error: unknown): GrpcError {
  if (isLooplineError(error)) {
    const metadata = new Metadata();
    if (Object.keys(error.details).length > 0) metadata.set(errorDetailsKey, asciiJson({ code: error.code, ...error.details }));
    return statusError(grpcStatusOf(error.code), error.message, metadata);
  }
  const carried = error instanceof RpcException ? error.getError() : error;
  if (hasGrpcStatus(carried)) return statusError(carried.code, carried.details ?? carried.message ?? '', carried.metadata ?? new Metadata());
  return statusError(status.INTERNAL, 'internal error', new Metadata());
}

/** Whether a mapped error is a fault of the service (worth logging), not of the request. */
export function isServerFault(error: GrpcError): boolean {
  return error.code === status.INTERNAL || error.code === status.DATA_LOSS || error.code === status.UNKNOWN;
}

function statusError(code: number, message: string, metadata: Metadata): GrpcError {
  return { name: 'Error', code, details: message, message, metadata };
}

interface StatusLike {
  readonly code: number;
  readonly details?: string;
  readonly message?: string;
  readonly metadata?: Metadata;
}

/** Node errors carry string codes (`ECONNRESET`); a gRPC status is an integer 0–16. */
function hasGrpcStatus(value: unknown): value is StatusLike {
  if (typeof value !== 'object' || value === null) return false;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 16;
}

/** JSON with every non-ASCII character escaped: metadata values must be printable ASCII. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
