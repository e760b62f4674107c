// The one place a service's API maps errors to responses. HTTP: `{ error, code, details }` with the
// status `httpStatusOf` gives each code (400 validation, 404 unknown, 409 illegal state or
// concurrent change, 503 unavailable, 500 data loss); Fastify's own 4xx (body parsing, multipart,
// size limits) keep their status in the same shape; anything else is 500, logged, message
// withheld. Installed globally by the host; gRPC calls get their status from `grpcErrorOf`.
import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { throwError, type Observable } from 'rxjs';
import type { FastifyReply } from 'fastify';
import { httpStatusOf, isLooplineError } from '@loopline/errors';
import type { Logger } from '@loopline/telemetry';
import { grpcErrorOf, isServerFault } from './grpc-errors';

export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

export function httpErrorOf(error: unknown): { readonly status: number; readonly body: ErrorBody | object } {
  if (isLooplineError(error)) {
    return { status: httpStatusOf(error.code), body: { error: error.message, code: error.code, details: error.details } };
  }
  if (error instanceof HttpException) {
    const response = error.getResponse();
    // A handler that built its own body (readiness reports, protocol errors) keeps it as it is.
    if (typeof response === 'object' && !('statusCode' in response && 'message' in response)) {
      return { status: error.getStatus(), body: response };
    }
    const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? error.message);
    return { status: error.getStatus(), body: { error: Array.isArray(message) ? message.join('; ') : String(message), code: 'HTTP' } };
  }
  // Fastify and its plugins (body parsing, multipart) raise errors carrying a 4xx statusCode.
  const statusCode = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return { status: statusCode, body: { error: (error as Error).message, code: 'HTTP' } };
  }
  // Anything else is a bug: reported (and logged by the filter) without its message.
  return { status: 500, body: { error: 'internal error', code: 'INTERNAL' } };
}

@Catch()
export class ServiceErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): unknown {
    if (host.getType() === 'rpc') return this.rpcError(error);
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = httpErrorOf(error);
    if (status >= 500) this.logger.error({ err: error, status }, 'request failed');
    if (reply.sent) {
      // A streamed response already began: the only honest signal left is to cut it off.
      reply.raw.destroy(error instanceof Error ? error : undefined);
      return undefined;
    }
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
    return undefined;
  }

  private rpcError(error: unknown): Observable<never> {
    const mapped = grpcErrorOf(error);
    if (isServerFault(mapped)) this.logger.error({ err: error, code: mapped.code }, 'gRPC call failed');
    return throwError(() => mapped);
  }
}
