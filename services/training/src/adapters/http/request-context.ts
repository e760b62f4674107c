import { ValidationError } from '@loopline/errors';
import type { RequestContext } from '../../application/ports';

export const actorHeader = 'x-loopline-actor';
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** Who acts: the `x-loopline-actor` header (e.g. `user:alice`), `anonymous` without one. */
export function contextOf(headers: Headers): RequestContext {
  const value = headers[actorHeader];
  const actor = Array.isArray(value) ? value[0] : value;
  if (actor === undefined || actor.trim() === '') return { actor: 'anonymous' };
  if (actor.length > 200 || !/^[\x21-\x7e]+$/.test(actor)) {
    throw new ValidationError(`the ${actorHeader} header must be 1-200 printable characters without spaces, e.g. user:alice`, { field: actorHeader });
  }
  return { actor };
}
