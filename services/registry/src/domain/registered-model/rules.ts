// The rules inputs must follow. Names are checked against an allowlist pattern (never repaired):
// a model name or alias never becomes a file path, but they appear in URLs, Kafka keys and
// stream ids, so nothing outside a small alphabet gets in (REFERENCE §7: reject, don't repair).
import { ValidationError } from '@loopline/errors';
import type { FeatureViewRef, ModelLineage, ModelSignature, StoredBlob } from './registered-model';

export const modelNamePattern = /^[a-z0-9][a-z0-9._-]{0,127}$/;
export const aliasPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Metric, parameter and tag keys: printable, no spaces, no path separators beyond `/`. */
export const keyPattern = /^[A-Za-z0-9_][A-Za-z0-9._:/-]{0,127}$/;
const sha256Pattern = /^[0-9a-f]{64}$/;

export const limits = {
  descriptionChars: 4_000,
  actorChars: 200,
  reasonChars: 2_000,
  mapEntries: 500,
  valueChars: 4_000,
  lineageChars: 500,
  lineageListEntries: 1_000,
  policyThresholds: 100,
} as const;

/** `ValidationError` unless `name` is a valid model name. */
export function assertModelName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !modelNamePattern.test(name)) {
    throw new ValidationError(
      `invalid model name ${describe(name)}: use 1-128 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit`,
      { field: 'name', pattern: modelNamePattern.source },
    );
  }
}

/**
 * `ValidationError` unless `alias` is a valid alias. Digits-only aliases would be confused with
 * version numbers, and `latest` with "the newest version", so both are reserved.
 */
export function assertAlias(alias: unknown): asserts alias is string {
  if (typeof alias !== 'string' || !aliasPattern.test(alias)) {
    throw new ValidationError(
      `invalid alias ${describe(alias)}: use 1-64 lower-case letters, digits, ".", "_" or "-", starting with a letter or digit`,
      { field: 'alias', pattern: aliasPattern.source },
    );
  }
  if (/^\d+$/.test(alias) || alias === 'latest') {
    throw new ValidationError(`alias "${alias}" is reserved: an alias cannot be a number or "latest"`, { field: 'alias' });
  }
}

/** `ValidationError` unless `version` is a version number (a positive integer). */
export function assertVersionNumber(version: unknown): asserts version is number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) {
    throw new ValidationError(`invalid version ${describe(version)}: a version is a positive integer`, { field: 'version' });
  }
}

export function assertText(field: string, value: string, maxChars: number): void {
  if (typeof value !== 'string') throw new ValidationError(`${field} must be a string`, { field });
  if (value.length > maxChars) throw new ValidationError(`${field} is longer than ${maxChars} characters`, { field, maxChars });
  // Control characters (NUL included) have no business in names, reasons or tags.
   
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) {
    throw new ValidationError(`${field} contains control characters`, { field });
  }
}

export function assertActor(actor: string): void {
  if (actor === '') throw new ValidationError('actor is empty', { field: 'actor' });
  assertText('actor', actor, limits.actorChars);
}

export function assertStringMap(field: string, map: Readonly<Record<string, string>>): void {
  const entries = Object.entries(map);
  if (entries.length > limits.mapEntries) throw new ValidationError(`${field} has more than ${limits.mapEntries} entries`, { field });
  for (const [key, value] of entries) {
    if (!keyPattern.test(key)) throw new ValidationError(`${field} key ${describe(key)} is invalid (pattern ${keyPattern.source})`, { field, key });
    assertText(`${field}.${key}`, value, limits.valueChars);
  }
}

export function assertMetrics(metrics: Readonly<Record<string, number>>): void {
  const entries = Object.entries(metrics);
  if (entries.length > limits.mapEntries) throw new ValidationError(`metrics has more than ${limits.mapEntries} entries`, { field: 'metrics' });
  for (const [name, value] of entries) {
    if (!keyPattern.test(name)) throw new ValidationError(`metric name ${describe(name)} is invalid (pattern ${keyPattern.source})`, { field: 'metrics', key: name });
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new ValidationError(`metric "${name}" must be a finite number`, { field: 'metrics', key: name });
    }
  }
}

export function assertLineage(lineage: ModelLineage): void {
  const texts: [string, string][] = [
    ['trainingRunId', lineage.trainingRunId],
    ['pipelineRunId', lineage.pipelineRunId],
    ['experimentName', lineage.experimentName],
    ['trainingSetId', lineage.trainingSetId],
    ['trainerName', lineage.trainerName],
    ['trainerVersion', lineage.trainerVersion],
    ['codeCommit', lineage.codeCommit],
  ];
  for (const [field, value] of texts) assertText(`lineage.${field}`, value, limits.lineageChars);
  if (lineage.datasetVersionIds.length > limits.lineageListEntries || lineage.featureViews.length > limits.lineageListEntries) {
    throw new ValidationError(`lineage lists are limited to ${limits.lineageListEntries} entries`, { field: 'lineage' });
  }
  lineage.datasetVersionIds.forEach((id, index) => assertText(`lineage.datasetVersionIds[${index}]`, id, limits.lineageChars));
  lineage.featureViews.forEach((view: FeatureViewRef, index) => {
    assertText(`lineage.featureViews[${index}].viewName`, view.viewName, limits.lineageChars);
    if (!Number.isSafeInteger(view.viewVersion) || view.viewVersion < 1) {
      throw new ValidationError(`lineage.featureViews[${index}].viewVersion must be a positive integer`, { field: 'lineage.featureViews' });
    }
  });
}

export function assertBlob(field: string, blob: StoredBlob): void {
  if (!sha256Pattern.test(blob.sha256)) throw new ValidationError(`${field}.sha256 must be 64 lower-case hex digits`, { field });
  if (!Number.isSafeInteger(blob.sizeBytes) || blob.sizeBytes < 1) throw new ValidationError(`${field}.sizeBytes must be a positive integer`, { field });
  assertText(`${field}.uri`, blob.uri, 2_000);
}

export function assertSignature(signature: ModelSignature): void {
  if (signature.inputs.length === 0 || signature.outputs.length === 0) {
    throw new ValidationError('the model must have at least one input and one output', { field: 'signature' });
  }
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return `(${typeof value})`;
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}
