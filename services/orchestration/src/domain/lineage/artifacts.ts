// Which values of a task's inputs and outputs name artifacts, for lineage: the fields the step
// kind marks (step-kinds.ts), plus the well-known names any step may use (a `command` step that
// writes `datasetVersionId` produces a dataset version).
import type { JsonValue } from '../expressions/expression';
import { stepKinds, type ArtifactKind, type StepKindName } from '../pipeline/step-kinds';

export interface ArtifactRef {
  readonly id: string;
  readonly kind: ArtifactKind;
}

const wellKnown: Readonly<Record<string, ArtifactKind>> = {
  datasetVersionId: 'dataset_version',
  datasetVersionIds: 'dataset_version',
  trainingSetId: 'training_set',
  modelVersion: 'model_version',
  trainingRunId: 'training_run',
  bestTrainingRunId: 'training_run',
  materializationId: 'materialization',
  artifactId: 'artifact',
};

function collect(kind: ArtifactKind, value: JsonValue | undefined, into: ArtifactRef[]): void {
  if (typeof value === 'string' && value !== '') into.push({ id: value, kind });
  else if (Array.isArray(value)) for (const item of value) collect(kind, item as JsonValue, into);
  else if (value !== null && typeof value === 'object' && kind === 'dataset_version') {
    // `datasetVersions: {source: versionId}` pins several.
    for (const item of Object.values(value)) collect(kind, item, into);
  }
}

function refs(values: { readonly [key: string]: JsonValue } | null, marked: Readonly<Record<string, { readonly artifact?: ArtifactKind }>>): ArtifactRef[] {
  const found: ArtifactRef[] = [];
  if (values === null) return found;
  for (const [name, value] of Object.entries(values)) {
    const kind = marked[name]?.artifact ?? wellKnown[name] ?? (name === 'datasetVersions' ? 'dataset_version' : undefined);
    if (kind !== undefined) collect(kind, value, found);
    // Nested objects of the well-known shape: `entities: {source, versionId}`.
    if (name === 'entities' && value !== null && typeof value === 'object' && !Array.isArray(value)) collect('dataset_version', (value as { readonly [key: string]: JsonValue }).versionId, found);
  }
  return dedupe(found);
}

function dedupe(found: ArtifactRef[]): ArtifactRef[] {
  const seen = new Set<string>();
  return found.filter((ref) => (seen.has(ref.id) ? false : (seen.add(ref.id), true)));
}

/** The artifacts a task read and produced. */
export function taskArtifacts(
  kind: StepKindName,
  inputs: { readonly [key: string]: JsonValue } | null,
  outputs: { readonly [key: string]: JsonValue } | null,
): { readonly inputs: ArtifactRef[]; readonly outputs: ArtifactRef[] } {
  const spec = stepKinds[kind];
  const produced = refs(outputs, spec.outputs);
  // `modelName` + `version` outputs name a model version even without `modelVersion`.
  if (outputs && typeof outputs.modelName === 'string' && (typeof outputs.version === 'number' || typeof outputs.version === 'string') && !produced.some((ref) => ref.kind === 'model_version')) {
    produced.push({ id: `${outputs.modelName}:${outputs.version}`, kind: 'model_version' });
  }
  const read = refs(inputs, spec.inputs);
  if (inputs && typeof inputs.modelName === 'string' && (typeof inputs.version === 'number' || typeof inputs.version === 'string')) {
    read.push({ id: `${inputs.modelName}:${inputs.version}`, kind: 'model_version' });
  }
  // A step that confirms or promotes a version reads it; it does not make it again.
  return { inputs: dedupe(read), outputs: produced.filter((ref) => !read.some((input) => input.id === ref.id)) };
}
