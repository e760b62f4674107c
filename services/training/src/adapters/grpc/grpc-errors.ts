// The one place the training gRPC API maps errors to statuses (see training_service.proto):
// every LooplineError through `grpcStatusOf`; INTERNAL otherwise. Structured details travel as
// JSON in the trailing metadata `loopline-error-details`.
import { Catch, Inject, type RpcExceptionFilter } from '@nestjs/common';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { throwError, type Observable } from 'rxjs';
import { grpcStatusOf, isLooplineError } from '@loopline/errors';
import { SERVICE_LOGGER } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';

export const errorDetailsKey = 'loopline-error-details';

export function grpcErrorOf(error: unknown): Pick<ServiceError, 'code' | 'details' | 'metadata' | 'message' | 'name'> {
  const metadata = new Metadata();
  const build = (code: number, message: string) => ({ name: 'Error', code, details: message, message, metadata });
  if (!isLooplineError(error)) return build(status.INTERNAL, 'internal error');
  if (Object.keys(error.details).length > 0) metadata.set(errorDetailsKey, JSON.stringify({ code: error.code, ...error.details }).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return build(grpcStatusOf(error.code), error.message);
}

@Catch()
export class GrpcErrorFilter implements RpcExceptionFilter<unknown> {
  constructor(@Inject(SERVICE_LOGGER) private readonly logger: Logger) {}

  catch(error: unknown): Observable<never> {
    const mapped = grpcErrorOf(error);
    if (mapped.code === status.INTERNAL) this.logger.error({ err: error }, 'training gRPC call failed');
    return throwError(() => mapped);
  }
}
