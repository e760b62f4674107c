// The reference a model version is compared with: the rows of its training set, loaded once per
// version into `reference_rows` so drift statistics are exact (the same tests on the same values
// as offline). Where the training set cannot be had (a hand-uploaded model without lineage, the
// feature store unreachable or the set deleted), the registry's reference profile stands in: its
// histograms and category counts are expanded into rows (each numeric bin's count at the bin's
// midpoint, or spread evenly across the bin), which keeps binned statistics (PSI, Jensen-Shannon, χ²) close and makes rank
// statistics (KS, Wasserstein) approximate; the evidence says which reference was used.
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { ModelVersionInfo, ReferenceProfile, TensorSpec } from '../registry/registry-client';
import type { ClickHouseLogStore } from './log-store';
import { sqlIdentifier, sqlNumber, sqlString } from './sql';

export type FeatureKind = 'numerical' | 'categorical';

export interface ReferenceFeature {
  readonly name: string;
  readonly kind: FeatureKind;
}

export interface ReferenceSet {
  readonly modelName: string;
  readonly modelVersion: number;
  /** `training_set`, `profile`, or `none` (nothing to compare with: drift is not judged). */
  readonly source: 'training_set' | 'profile' | 'none';
  /** The training set id, or why the fallback was used. */
  readonly detail: string;
  readonly rowCount: number;
  readonly features: readonly ReferenceFeature[];
}

export interface ReferenceSources {
  readonly version: (modelName: string, version: number) => Promise<ModelVersionInfo | undefined>;
  /** Downloads a training set's Parquet file into `file`. */
  readonly downloadTrainingSet: (trainingSetId: string, file: string) => Promise<void>;
}

const numericTypes = /^(FP16|FP32|FP64|BF16|INT8|INT16|INT32|INT64|UINT8|UINT16|UINT32|UINT64|BOOL)$/i;

/** Features of a signature: one per input of shape [batch] or [batch, 1]; `name[i]` per column of wider inputs. */
export function signatureFeatures(inputs: readonly TensorSpec[]): ReferenceFeature[] {
  const features: ReferenceFeature[] = [];
  for (const input of inputs) {
    const kind: FeatureKind = numericTypes.test(input.datatype) ? 'numerical' : 'categorical';
    const width = input.shape.length >= 2 ? input.shape[input.shape.length - 1]! : 1;
    if (width > 1) for (let column = 0; column < width; column += 1) features.push({ name: `${input.name}[${column}]`, kind });
    else features.push({ name: input.name, kind });
  }
  return features;
}

export class ReferenceData {
  private readonly loading = new Map<string, Promise<ReferenceSet>>();

  constructor(
    private readonly store: ClickHouseLogStore,
    private readonly sources: ReferenceSources,
    private readonly options: { readonly workDir: string; readonly embedded: boolean; readonly onProgress?: (message: string, fields: object) => void },
  ) {}

  private get client(): ClickHouseClient {
    return this.store.client;
  }

  /** The reference of a version, loading it on first use (once, even with concurrent callers). */
  reference(modelName: string, version: number): Promise<ReferenceSet> {
    const key = `${modelName}\u0000${version}`;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = this.loadOnce(modelName, version).catch((error: unknown) => {
        this.loading.delete(key);
        throw error;
      });
      this.loading.set(key, pending);
    }
    return pending;
  }

  /** SQL yielding one nullable column per feature from the reference rows. */
  rowsSql(set: ReferenceSet, features: readonly ReferenceFeature[]): string {
    const columns = features.map((feature) => featureColumnOf(feature)).join(', ');
    return `SELECT ${columns} FROM ${this.store.tables.referenceRows} FINAL WHERE model_name = ${sqlString(set.modelName)} AND model_version = ${sqlNumber(set.modelVersion)}`;
  }

  private async loadOnce(modelName: string, version: number): Promise<ReferenceSet> {
    const stored = await this.stored(modelName, version);
    if (stored) return stored;
    const info = await this.sources.version(modelName, version);
    if (!info) return this.record({ modelName, modelVersion: version, source: 'none', detail: 'the registry does not know this version', rowCount: 0, features: [] });
    const features = signatureFeatures(info.signature.inputs);
    let fallbackReason = 'the version has no training set in its lineage';
    if (info.lineage.trainingSetId !== '') {
      try {
        const rowCount = await this.loadTrainingSet(modelName, version, info.lineage.trainingSetId, features);
        return this.record({ modelName, modelVersion: version, source: 'training_set', detail: info.lineage.trainingSetId, rowCount, features });
      } catch (error) {
        fallbackReason = `training set ${info.lineage.trainingSetId} could not be loaded: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
        this.options.onProgress?.('reference falls back to the registry profile', { modelName, version, reason: fallbackReason });
      }
    }
    if (info.referenceProfile) {
      const rowCount = await this.loadProfile(modelName, version, info.referenceProfile, features);
      const profiled = features.filter((feature) => info.referenceProfile!.features[feature.name] !== undefined);
      return this.record({ modelName, modelVersion: version, source: 'profile', detail: fallbackReason, rowCount, features: profiled });
    }
    return this.record({ modelName, modelVersion: version, source: 'none', detail: `${fallbackReason}, and it has no reference profile`, rowCount: 0, features });
  }

  private async stored(modelName: string, version: number): Promise<ReferenceSet | undefined> {
    const rows = await this.store.query<{ source: ReferenceSet['source']; detail: string; row_count: number; numeric_features: string[]; categorical_features: string[] }>(
      `SELECT source, detail, row_count, numeric_features, categorical_features FROM ${this.store.tables.referenceSets} FINAL
       WHERE model_name = ${sqlString(modelName)} AND model_version = ${sqlNumber(version)}`,
    );
    const row = rows[0];
    // A version with no reference is looked up again later: its training set may appear.
    if (!row || row.source === 'none') return undefined;
    return {
      modelName,
      modelVersion: version,
      source: row.source,
      detail: row.detail,
      rowCount: Number(row.row_count),
      features: [...row.numeric_features.map((name) => ({ name, kind: 'numerical' as const })), ...row.categorical_features.map((name) => ({ name, kind: 'categorical' as const }))],
    };
  }

  private async record(set: ReferenceSet): Promise<ReferenceSet> {
    await this.client.insert({
      table: this.store.tables.referenceSets,
      format: 'JSONEachRow',
      values: [
        {
          model_name: set.modelName,
          model_version: set.modelVersion,
          source: set.source,
          detail: set.detail,
          row_count: set.rowCount,
          numeric_features: set.features.filter((feature) => feature.kind === 'numerical').map((feature) => feature.name),
          categorical_features: set.features.filter((feature) => feature.kind === 'categorical').map((feature) => feature.name),
          loaded_at: new Date().toISOString().replace('T', ' ').replace('Z', ''),
        },
      ],
    });
    return set;
  }

  private async clearRows(modelName: string, version: number): Promise<void> {
    await this.client.command({
      query: `DELETE FROM ${this.store.tables.referenceRows} WHERE model_name = ${sqlString(modelName)} AND model_version = ${sqlNumber(version)}`,
    });
  }

  private async loadTrainingSet(modelName: string, version: number, trainingSetId: string, features: readonly ReferenceFeature[]): Promise<number> {
    await mkdir(this.options.workDir, { recursive: true });
    const file = join(this.options.workDir, `training-set-${trainingSetId.replace(/[^A-Za-z0-9_-]/g, '_')}.parquet`);
    try {
      this.options.onProgress?.('downloading the training set of the reference', { modelName, version, trainingSetId });
      await this.sources.downloadTrainingSet(trainingSetId, file);
      await this.clearRows(modelName, version);
      const maps = (source: (feature: ReferenceFeature) => string | undefined) => {
        const numeric = features.filter((feature) => feature.kind === 'numerical' && source(feature) !== undefined);
        const categorical = features.filter((feature) => feature.kind === 'categorical' && source(feature) !== undefined);
        const numericMap = numeric.length === 0 ? 'map()' : `mapFilter((k, v) -> NOT isNaN(v), map(${numeric.map((feature) => `${sqlString(feature.name)}, ifNull(toFloat64OrNull(toString(${source(feature)!})), nan)`).join(', ')}))`;
        const categoricalMap = categorical.length === 0 ? 'map()' : `mapFilter((k, v) -> v != '\\0', map(${categorical.map((feature) => `${sqlString(feature.name)}, ifNull(toString(${source(feature)!}), '\\0')`).join(', ')}))`;
        return { numericMap, categoricalMap, matched: numeric.length + categorical.length };
      };
      const target = `INSERT INTO ${this.store.tables.referenceRows} (model_name, model_version, row_index, num_inputs, str_inputs)`;
      if (this.options.embedded) {
        const relation = `file(${sqlString(file)}, 'Parquet')`;
        const described = await this.store.query<{ name: string }>(`DESCRIBE ${relation}`);
        const columns = described.map((column) => column.name);
        const columnOf = (feature: ReferenceFeature): string | undefined => {
          const found = matchColumn(feature.name, columns);
          return found === undefined ? undefined : sqlIdentifier(found);
        };
        const { numericMap, categoricalMap, matched } = maps(columnOf);
        if (matched === 0) throw new Error(`none of the model inputs (${features.map((feature) => feature.name).join(', ')}) is a column of the training set (${columns.join(', ')})`);
        await this.client.command({
          query: `${target} SELECT ${sqlString(modelName)}, ${sqlNumber(version)}, rowNumberInAllBlocks(), ${numericMap}, ${categoricalMap} FROM ${relation}`,
        });
      } else {
        // A ClickHouse server reads the Parquet from the request body into a staging table.
        const stage = `${this.store.tables.referenceRows.split('.')[0]}.${sqlIdentifier(`stage_reference_${modelName.replace(/\W/g, '_')}_${version}_${Date.now()}`)}`;
        const columns = features.map((feature) => `${sqlIdentifier(feature.name)} ${feature.kind === 'numerical' ? 'Nullable(Float64)' : 'Nullable(String)'}`);
        await this.client.command({ query: `CREATE TABLE ${stage} (${columns.join(', ')}) ENGINE = Memory` });
        try {
          await this.client.insert({ table: stage, values: createReadStream(file), format: 'Parquet', clickhouse_settings: { input_format_parquet_allow_missing_columns: 1 } });
          const { numericMap, categoricalMap } = maps((feature) => sqlIdentifier(feature.name));
          await this.client.command({ query: `${target} SELECT ${sqlString(modelName)}, ${sqlNumber(version)}, rowNumberInAllBlocks(), ${numericMap}, ${categoricalMap} FROM ${stage}` });
        } finally {
          await this.client.command({ query: `DROP TABLE IF EXISTS ${stage}` });
        }
      }
      const counted = await this.store.query<{ rows: number }>(
        `SELECT count() AS rows FROM ${this.store.tables.referenceRows} FINAL WHERE model_name = ${sqlString(modelName)} AND model_version = ${sqlNumber(version)}`,
      );
      const rows = Number(counted[0]?.rows ?? 0);
      if (rows === 0) throw new Error('the training set has no rows');
      this.options.onProgress?.('reference loaded from the training set', { modelName, version, trainingSetId, rows });
      return rows;
    } finally {
      await rm(file, { force: true });
    }
  }

  private async loadProfile(modelName: string, version: number, profile: ReferenceProfile, features: readonly ReferenceFeature[]): Promise<number> {
    await this.clearRows(modelName, version);
    const columns = new Map<string, (number | string)[]>();
    for (const feature of features) {
      const entry = profile.features[feature.name];
      if (!entry) continue;
      columns.set(feature.name, expandProfile(entry));
    }
    const rowCount = Math.max(0, ...[...columns.values()].map((values) => values.length));
    const rows: { model_name: string; model_version: number; row_index: number; num_inputs: Record<string, number>; str_inputs: Record<string, string> }[] = [];
    for (let index = 0; index < rowCount; index += 1) {
      const num: Record<string, number> = {};
      const str: Record<string, string> = {};
      for (const [name, values] of columns) {
        const value = values[index];
        if (typeof value === 'number') num[name] = value;
        else if (typeof value === 'string') str[name] = value;
      }
      rows.push({ model_name: modelName, model_version: version, row_index: index, num_inputs: num, str_inputs: str });
    }
    for (let start = 0; start < rows.length; start += 50_000) {
      await this.client.insert({ table: this.store.tables.referenceRows, values: rows.slice(start, start + 50_000), format: 'JSONEachRow' });
    }
    return rowCount;
  }
}

/** The column a feature is read from: its own name, else a column named `<view>__<name>`, `<view>:<name>` or `<view>.<name>`. */
export function matchColumn(feature: string, columns: readonly string[]): string | undefined {
  if (columns.includes(feature)) return feature;
  return columns.find((column) => column.endsWith(`__${feature}`) || column.endsWith(`:${feature}`) || column.endsWith(`.${feature}`));
}

/** Values standing for a profile: at most 20,000, in the profile's proportions. */
export function expandProfile(entry: ReferenceProfile['features'][string]): (number | string)[] {
  const limit = 20_000;
  const values: (number | string)[] = [];
  if (entry.kind === 'numeric') {
    const histogram = entry.histogram;
    if (!histogram || histogram.counts.length === 0) return values;
    const total = histogram.counts.reduce((sum, count) => sum + count, 0);
    const scale = total > limit ? limit / total : 1;
    histogram.counts.forEach((count, bin) => {
      const low = histogram.edges[bin]!;
      const high = histogram.edges[bin + 1] ?? low;
      const copies = Math.round(count * scale);
      for (let copy = 0; copy < copies; copy += 1) values.push(copies === 1 ? (low + high) / 2 : low + ((high - low) * (copy + 0.5)) / copies);
    });
    return values;
  }
  const total = Object.values(entry.frequencies).reduce((sum, count) => sum + count, 0);
  const scale = total > limit ? limit / total : 1;
  for (const [category, count] of Object.entries(entry.frequencies)) {
    const copies = Math.round(count * scale);
    for (let copy = 0; copy < copies; copy += 1) values.push(category);
  }
  return values;
}

function featureColumnOf(feature: ReferenceFeature): string {
  const key = sqlString(feature.name);
  return feature.kind === 'numerical'
    ? `if(mapContains(num_inputs, ${key}), num_inputs[${key}], NULL) AS ${sqlIdentifier(feature.name)}`
    : `if(mapContains(str_inputs, ${key}), str_inputs[${key}], NULL) AS ${sqlIdentifier(feature.name)}`;
}
