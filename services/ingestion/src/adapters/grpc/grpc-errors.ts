// The one place the ingestion service's gRPC API maps errors to statuses (see the error list in
// ingestion_service.proto): every LooplineError through `grpcStatusOf`; INTERNAL otherwise.
// Structured details travel as JSON in the trailing metadata `loopline-error-details`.
import { Catch, Inject, type RpcExceptionFilter } from '@nestjs/common';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { throwError, type Observable } from 'rxjs';
import { grpcStatusOf, isLooplineError } from '@loopline/errors';
import { SERVICE_LOGGER } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';

export const errorDetailsKey = 'loopline-error-details';

export type GrpcError = Pick<ServiceError, 'code' | 'details' | 'metadata' | 'message' | 'name'>;

export function grpcErrorOf(error: unknown): GrpcError {
  const metadata = new Metadata();
  const build = (code: number, message: string): GrpcError => ({ name: 'Error', code, details: message, message, metadata });
  if (!isLooplineError(error)) return build(status.INTERNAL, 'internal error');
  if (Object.keys(error.details).length > 0) metadata.set(errorDetailsKey, asciiJson({ code: error.code, ...error.details }));
  return build(grpcStatusOf(error.code), error.message);
}

/** JSON with every non-ASCII character escaped: metadata values must be printable ASCII. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** For unary and server-streaming handlers: whatever they throw leaves as a mapped status. */
@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(@Inject(SERVICE_LOGGER) private readonly logger: Logger) {}

  catch(error: unknown): Observable<never> {
    const mapped = grpcErrorOf(error);
    if (mapped.code === status.INTERNAL || mapped.code === status.DATA_LOSS) this.logger.error({ err: error, code: mapped.code }, 'ingestion gRPC call failed');
    return throwError(() => mapped);
  }
}
