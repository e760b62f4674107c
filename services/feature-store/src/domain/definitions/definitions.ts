// The definitions a user keeps as code: entities, feature views and feature services, as the
// service holds them once a file has been parsed and checked (definitions-file.ts).
import type { ValueType } from './expression';

export type { ValueType } from './expression';

export type AggregationFunction = 'count' | 'sum' | 'mean' | 'min' | 'max';
export const aggregationFunctions: readonly AggregationFunction[] = ['count', 'sum', 'mean', 'min', 'max'];
export const valueTypes: readonly ValueType[] = ['int64', 'double', 'string', 'bool', 'timestamp'];

/** The key of feature rows and online lookups, e.g. `route` with join keys `origin`, `destination`. */
export interface EntityDefinition {
  readonly name: string;
  /** Source columns (and request keys) that identify one entity, in order. */
  readonly joinKeys: readonly string[];
  readonly description: string;
}

/** A windowed aggregation per entity over the rows strictly before each row's event time. */
export interface Aggregation {
  readonly function: AggregationFunction;
  readonly windowSeconds: number;
}

export interface FeatureDefinition {
  readonly name: string;
  /** Expression over source columns (expression.ts); for an aggregation, the aggregated value. */
  readonly expression: string;
  readonly type: ValueType;
  readonly aggregation: Aggregation | null;
  readonly description: string;
}

export interface FeatureViewDefinition {
  readonly name: string;
  readonly entities: readonly string[];
  /** The ingestion data source the view reads. */
  readonly source: string;
  readonly timestampColumn: string;
  /** How long a value stays valid after its event time; `null`: forever. */
  readonly ttlSeconds: number | null;
  readonly online: boolean;
  readonly description: string;
  readonly features: readonly FeatureDefinition[];
}

/** A named set of features for one model, as written: `view:feature`, `view@v2:feature`, `view`, `view@v2`. */
export interface FeatureServiceDefinition {
  readonly name: string;
  readonly description: string;
  readonly features: readonly string[];
}

export interface DefinitionSet {
  readonly entities: readonly EntityDefinition[];
  readonly featureViews: readonly FeatureViewDefinition[];
  readonly featureServices: readonly FeatureServiceDefinition[];
}

export const namePattern = /^[a-z][a-z0-9_]{0,62}$/;
export const columnPattern = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** One problem in a definitions file, at an exact place. */
export interface DefinitionProblem {
  /** Path in the document, e.g. `feature_views[0].features[2].expression`. */
  readonly path: string;
  /** 1-based line and column in the file, when the place exists in it. */
  readonly line?: number;
  readonly column?: number;
  readonly message: string;
}
