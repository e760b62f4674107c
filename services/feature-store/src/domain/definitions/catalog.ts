// What is applied: every version of every definition, as the event streams recorded them.
import type { EntityDefinition, FeatureServiceDefinition, FeatureViewDefinition, ValueType } from './definitions';

export interface AppliedVersion<D> {
  readonly name: string;
  readonly version: number;
  /** SHA-256 of the canonical definition (canonical.ts). */
  readonly hash: string;
  readonly definition: D;
  readonly actor: string;
  readonly appliedAt: string;
}

/** A feature a feature service serves, pinned to the view version it was resolved to. */
export interface ResolvedFeature {
  readonly view: string;
  readonly version: number;
  readonly feature: string;
  readonly type: ValueType;
}

export type AppliedEntity = AppliedVersion<EntityDefinition>;
export type AppliedFeatureView = AppliedVersion<FeatureViewDefinition>;
export type AppliedFeatureService = AppliedVersion<FeatureServiceDefinition> & { readonly resolved: readonly ResolvedFeature[] };

/** Every applied version, oldest first per name. */
export interface Catalog {
  readonly entities: ReadonlyMap<string, readonly AppliedEntity[]>;
  readonly featureViews: ReadonlyMap<string, readonly AppliedFeatureView[]>;
  readonly featureServices: ReadonlyMap<string, readonly AppliedFeatureService[]>;
}

export const emptyCatalog: Catalog = { entities: new Map(), featureViews: new Map(), featureServices: new Map() };

export function latest<T>(versions: readonly T[] | undefined): T | undefined {
  return versions?.[versions.length - 1];
}

export function viewVersion(catalog: Catalog, name: string, version?: number): AppliedFeatureView | undefined {
  const versions = catalog.featureViews.get(name);
  return version === undefined ? latest(versions) : versions?.find((applied) => applied.version === version);
}
