// `loopline features plan`: what applying a file would change, against what is applied. Pure: the
// same file and catalog always give the same plan, and `apply` appends exactly the plan's events.
import { ValidationError } from '@loopline/errors';
import { definitionHash } from './canonical';
import { latest, viewVersion, type Catalog, type ResolvedFeature } from './catalog';
import type { DefinitionSet, EntityDefinition, FeatureServiceDefinition, FeatureViewDefinition } from './definitions';
import type { DefinitionKind } from './definition-stream';
import { formatDuration } from './duration';
import { parseFeatureRef } from './feature-refs';

export type PlannedDefinition =
  | { readonly kind: 'entity'; readonly definition: EntityDefinition }
  | { readonly kind: 'feature_view'; readonly definition: FeatureViewDefinition }
  | { readonly kind: 'feature_service'; readonly definition: FeatureServiceDefinition; readonly resolved: readonly ResolvedFeature[] };

export type PlannedChange = PlannedDefinition & {
  readonly name: string;
  readonly action: 'create' | 'update' | 'unchanged';
  /** Version applied now (0 when new). */
  readonly fromVersion: number;
  /** Version after apply (equal to `fromVersion` when unchanged). */
  readonly toVersion: number;
  readonly hash: string;
  /** Human-readable differences, one per changed field. */
  readonly differences: readonly string[];
};

export interface Plan {
  readonly changes: readonly PlannedChange[];
}

export function planDefinitions(set: DefinitionSet, catalog: Catalog): Plan {
  const changes: PlannedChange[] = [];
  for (const definition of set.entities) {
    const current = latest(catalog.entities.get(definition.name));
    const hash = definitionHash(definition);
    changes.push(change({ kind: 'entity', definition }, current, hash, () => entityDifferences(current!.definition, definition)));
  }
  const viewVersionAfter = new Map<string, { version: number; definition: FeatureViewDefinition }>();
  for (const definition of set.featureViews) {
    const current = latest(catalog.featureViews.get(definition.name));
    const hash = definitionHash(definition);
    const planned = change({ kind: 'feature_view', definition }, current, hash, () => viewDifferences(current!.definition, definition));
    viewVersionAfter.set(definition.name, { version: planned.toVersion, definition });
    changes.push(planned);
  }
  for (const definition of set.featureServices) {
    const resolved = resolveFeatureService(definition, catalog, viewVersionAfter);
    const current = latest(catalog.featureServices.get(definition.name));
    const hash = definitionHash({ definition, resolved });
    changes.push(change({ kind: 'feature_service', definition, resolved }, current, hash, () => serviceDifferences(current!.resolved, resolved, current!.definition, definition)));
  }
  return { changes };
}

function change(planned: PlannedDefinition, current: { version: number; hash: string } | undefined, hash: string, differences: () => string[]): PlannedChange {
  if (!current) return { ...planned, name: planned.definition.name, action: 'create', fromVersion: 0, toVersion: 1, hash, differences: [] };
  if (current.hash === hash) return { ...planned, name: planned.definition.name, action: 'unchanged', fromVersion: current.version, toVersion: current.version, hash, differences: [] };
  return { ...planned, name: planned.definition.name, action: 'update', fromVersion: current.version, toVersion: current.version + 1, hash, differences: differences() };
}

/**
 * Pins every reference of a feature service to a view version: the version given, or the latest
 * one once this apply is done. Applying a new view version therefore never changes what an
 * existing feature service serves until that service is applied again (feast#2728).
 */
export function resolveFeatureService(
  service: FeatureServiceDefinition,
  catalog: Catalog,
  pendingViews: ReadonlyMap<string, { version: number; definition: FeatureViewDefinition }> = new Map(),
): ResolvedFeature[] {
  const resolved: ResolvedFeature[] = [];
  const seen = new Set<string>();
  service.features.forEach((text, index) => {
    const ref = parseFeatureRef(text);
    const where = { featureService: service.name, index, reference: text };
    if (typeof ref === 'string') throw new ValidationError(ref, where);
    const pending = pendingViews.get(ref.view);
    let target: { readonly version: number; readonly definition: FeatureViewDefinition } | undefined;
    if (pending && (ref.version === undefined || ref.version === pending.version)) target = pending;
    else {
      const applied = viewVersion(catalog, ref.view, ref.version);
      if (applied) target = { version: applied.version, definition: applied.definition };
    }
    if (!target) {
      throw new ValidationError(
        ref.version === undefined
          ? `feature service "${service.name}": unknown feature view "${ref.view}"`
          : `feature service "${service.name}": feature view "${ref.view}" has no version ${ref.version}`,
        where,
      );
    }
    const { version, definition } = target;
    const features = ref.feature === undefined ? definition.features : definition.features.filter((feature) => feature.name === ref.feature);
    if (features.length === 0) throw new ValidationError(`feature service "${service.name}": feature view "${ref.view}@v${version}" has no feature "${ref.feature}"`, where);
    for (const feature of features) {
      const key = `${ref.view}:${feature.name}`;
      if (seen.has(key)) throw new ValidationError(`feature service "${service.name}" lists feature "${key}" twice`, where);
      seen.add(key);
      resolved.push({ view: ref.view, version, feature: feature.name, type: feature.type });
    }
  });
  return resolved;
}

function entityDifferences(before: EntityDefinition, after: EntityDefinition): string[] {
  const differences: string[] = [];
  if (before.joinKeys.join(',') !== after.joinKeys.join(',')) differences.push(`join_keys: [${before.joinKeys.join(', ')}] → [${after.joinKeys.join(', ')}]`);
  if (before.description !== after.description) differences.push('description changed');
  return differences;
}

function viewDifferences(before: FeatureViewDefinition, after: FeatureViewDefinition): string[] {
  const differences: string[] = [];
  const field = (label: string, a: string, b: string) => {
    if (a !== b) differences.push(`${label}: ${a} → ${b}`);
  };
  field('source', before.source, after.source);
  field('entities', `[${before.entities.join(', ')}]`, `[${after.entities.join(', ')}]`);
  field('timestamp_column', before.timestampColumn, after.timestampColumn);
  field('ttl', before.ttlSeconds === null ? 'none' : formatDuration(before.ttlSeconds), after.ttlSeconds === null ? 'none' : formatDuration(after.ttlSeconds));
  field('online', String(before.online), String(after.online));
  if (before.description !== after.description) differences.push('description changed');
  const beforeFeatures = new Map(before.features.map((feature) => [feature.name, feature]));
  const afterFeatures = new Map(after.features.map((feature) => [feature.name, feature]));
  for (const [name, feature] of afterFeatures) {
    const old = beforeFeatures.get(name);
    if (!old) differences.push(`+ feature ${name}: ${describeFeature(feature)}`);
    else if (definitionHash(old) !== definitionHash(feature)) differences.push(`~ feature ${name}: ${describeFeature(old)} → ${describeFeature(feature)}`);
  }
  for (const name of beforeFeatures.keys()) if (!afterFeatures.has(name)) differences.push(`- feature ${name}`);
  return differences;
}

function describeFeature(feature: FeatureViewDefinition['features'][number]): string {
  const value = feature.aggregation ? `${feature.aggregation.function}(${feature.expression}) over ${formatDuration(feature.aggregation.windowSeconds)}` : feature.expression;
  return `${value} as ${feature.type}`;
}

function serviceDifferences(before: readonly ResolvedFeature[], after: readonly ResolvedFeature[], beforeDefinition: FeatureServiceDefinition, afterDefinition: FeatureServiceDefinition): string[] {
  const label = (feature: ResolvedFeature) => `${feature.view}@v${feature.version}:${feature.feature}`;
  const beforeSet = new Set(before.map(label));
  const afterSet = new Set(after.map(label));
  const differences = [...after.filter((feature) => !beforeSet.has(label(feature))).map((feature) => `+ ${label(feature)}`), ...before.filter((feature) => !afterSet.has(label(feature))).map((feature) => `- ${label(feature)}`)];
  if (beforeDefinition.description !== afterDefinition.description) differences.push('description changed');
  return differences;
}

export function kindLabel(kind: DefinitionKind): string {
  return kind === 'entity' ? 'entity' : kind === 'feature_view' ? 'feature view' : 'feature service';
}
