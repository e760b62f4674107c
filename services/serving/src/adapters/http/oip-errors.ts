import { isLooplineError, httpStatusOf } from '@loopline/errors';
import { ServingError, type ServingErrorCode } from '../../application/serving-error';

/** An Open Inference Protocol error answer: a status, `{"error": "..."}` and maybe headers. */
export interface OipHttpError {
  readonly status: number;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

const retryAfter = { 'retry-after': '1' };

function servingStatus(code: ServingErrorCode): { status: number; headers: Record<string, string> } {
  switch (code) {
    case 'OVERLOADED':
    case 'DEADLINE_EXCEEDED':
      return { status: 503, headers: retryAfter };
    case 'NOT_READY':
      return { status: 503, headers: {} };
    case 'INFERENCE_FAILED':
      return { status: 500, headers: {} };
    case 'UNSUPPORTED':
      return { status: 400, headers: {} };
    default: {
      const unreachable: never = code;
      throw new Error(`unmapped serving error ${String(unreachable)}`);
    }
  }
}

/** The one place errors become HTTP answers on the OIP routes. */
export function toOipHttpError(error: unknown): OipHttpError {
  if (isLooplineError(error)) return { status: httpStatusOf(error.code), message: error.message, headers: {} };
  if (error instanceof ServingError) return { ...servingStatus(error.code), message: error.message };
  // Fastify's own errors while reading the request (body too large, bad content length, …).
  const fastify = error as { code?: unknown; statusCode?: unknown; message?: unknown };
  if (fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, message: String(fastify.message), headers: {} };
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return { status: fastify.statusCode, message: String(fastify.message), headers: {} };
  }
  return { status: 500, message: 'internal server error', headers: {} };
}
