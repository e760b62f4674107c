// Feature references: `view:feature`, pinned `view@v3:feature`, or a whole view `view` / `view@v3`.
import { namePattern } from './definitions';

export interface FeatureRef {
  readonly view: string;
  /** Pinned view version, or `undefined` for the latest one. */
  readonly version?: number;
  /** One feature, or `undefined` for every feature of the view. */
  readonly feature?: string;
}

const refPattern = /^([a-z][a-z0-9_]{0,62})(?:@v([1-9][0-9]{0,8}))?(?::([a-z][a-z0-9_]{0,62}))?$/;

/** Parses a reference, or returns a message saying what is wrong with it. */
export function parseFeatureRef(text: string): FeatureRef | string {
  const match = refPattern.exec(text);
  if (!match) {
    return `"${text}" is not a feature reference: expected "view:feature", "view@v2:feature" or "view" (names are lower-case letters, digits and "_")`;
  }
  return { view: match[1]!, version: match[2] === undefined ? undefined : Number(match[2]), feature: match[3] };
}

export function formatFeatureRef(ref: { readonly view: string; readonly version?: number; readonly feature?: string }): string {
  return `${ref.view}${ref.version === undefined ? '' : `@v${ref.version}`}${ref.feature === undefined ? '' : `:${ref.feature}`}`;
}

export function isName(text: string): boolean {
  return namePattern.test(text);
}
