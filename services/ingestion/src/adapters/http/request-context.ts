import { ValidationError } from '@loopline/errors';
import type { RequestContext } from '../../application/ports';

export const actorHeader = 'x-loopline-actor';
export const correlationHeader = 'x-correlation-id';

/** Who acts: the `x-loopline-actor` header (e.g. `user:alice`), `anonymous` without one. */
export function actorFrom(value: string | string[] | undefined): string {
  const actor = Array.isArray(value) ? value[0] : value;
  if (actor === undefined || actor.trim() === '') return 'anonymous';
  if (actor.length > 200 || !/^[\x21-\x7e]+$/.test(actor)) {
    throw new ValidationError(`the ${actorHeader} header must be 1-200 printable characters without spaces, e.g. user:alice`, { field: actorHeader });
  }
  return actor;
}

export function requestContextFrom(headers: Readonly<Record<string, string | string[] | undefined>>): RequestContext {
  const correlation = headers[correlationHeader];
  const correlationId = Array.isArray(correlation) ? correlation[0] : correlation;
  return {
    actor: actorFrom(headers[actorHeader]),
    correlationId: correlationId && /^[\x21-\x7e]{1,200}$/.test(correlationId) ? correlationId : undefined,
  };
}
