import { ValidationError } from '@loopline/errors';
import type { RequestContext } from '../../application/ports';
import { actorFrom, requestContextFrom } from './request-context';

export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** The request's context; an `actor` in the body takes precedence over the header. */
export function contextWithActor(headers: Headers, bodyActor: string | undefined): RequestContext {
  const context = requestContextFrom(headers);
  return bodyActor === undefined ? context : { ...context, actor: actorFrom(bodyActor) };
}

/** A path parameter that must be a version number. */
export function versionParam(value: string): number {
  if (!/^[1-9]\d{0,9}$/.test(value)) throw new ValidationError(`invalid version ${JSON.stringify(value.slice(0, 40))}: a version is a positive integer`, { field: 'version' });
  return Number(value);
}
