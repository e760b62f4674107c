// The one place the feature store's HTTP API maps errors to responses: `{ error, code, details }`
// with the status `httpStatusOf` gives each code (400 validation, 404 unknown, 409 conflict, 503
// unavailable, 500 data loss); anything else is 500, logged, message withheld.
import { Catch, HttpException, Inject, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { httpStatusOf, isLooplineError } from '@loopline/errors';
import { SERVICE_LOGGER } from '@loopline/service-host';
import type { Logger } from '@loopline/telemetry';

export function httpErrorOf(error: unknown): { readonly status: number; readonly body: { error: string; code: string; details?: Readonly<Record<string, unknown>> } } {
  if (isLooplineError(error)) return { status: httpStatusOf(error.code), body: { error: error.message, code: error.code, details: error.details } };
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : ((response as { message?: unknown }).message ?? error.message);
    return { status: error.getStatus(), body: { error: Array.isArray(message) ? message.join('; ') : String(message), code: 'HTTP' } };
  }
  const statusCode = (error as { statusCode?: unknown } | undefined)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return { status: statusCode, body: { error: (error as Error).message, code: 'HTTP' } };
  return { status: 500, body: { error: 'internal error', code: 'INTERNAL' } };
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(@Inject(SERVICE_LOGGER) private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { status, body } = httpErrorOf(error);
    if (status >= 500) this.logger.error({ err: error, status }, 'feature-store request failed');
    if (reply.sent) {
      reply.raw.destroy(error instanceof Error ? error : undefined);
      return;
    }
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }
}
