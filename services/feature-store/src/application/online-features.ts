// Online lookups and pushes. Reads go through a read-through cache of online rows per view
// version; every write path (materialization, push) invalidates the view version it wrote, and a
// read that raced with a write never caches what it read (generation check), so the cache never
// serves a value older than the store's. Writes of other replicas (and of the other thread of this
// one) arrive as store notifications (`invalidate`); while they may be missed, nothing is cached
// (`setCoherent`).
import { NotFoundError, ValidationError } from '@loopline/errors';
import { latest, viewVersion, type AppliedFeatureView, type Catalog } from '../domain/definitions/catalog';
import type { ValueType } from '../domain/definitions/definitions';
import { parseFeatureRef } from '../domain/definitions/feature-refs';
import { entityKeyOf, lookUpValue, type FeatureValue, type FieldStatus, type OnlineRow } from '../domain/online/online-values';
import type { DefinitionsApplication } from './definitions';
import { joinKeysOf } from './definitions';
import type { Clock, FeatureRow, OfflineStore, OnlineKey, OnlineStore } from './ports';

export type EntityValue = string | number | boolean;

export interface OnlineFeaturesRequest {
  readonly featureService?: string;
  readonly features?: readonly string[];
  /** Column-major entity keys: join key → one value per entity row. */
  readonly entities: Readonly<Record<string, readonly EntityValue[]>>;
}

export interface FeatureVector {
  readonly values: FeatureValue[];
  readonly statuses: FieldStatus[];
  /** Epoch milliseconds, `null` when NOT_FOUND. */
  readonly eventTimestamps: (number | null)[];
}

export interface OnlineFeaturesResponse {
  readonly featureNames: readonly string[];
  /** Type of each feature, in `featureNames` order. */
  readonly featureTypes: readonly ValueType[];
  readonly results: FeatureVector[];
}

interface ResolvedView {
  readonly name: string;
  readonly version: number;
  readonly ttlSeconds: number | null;
  readonly joinKeys: readonly string[];
  readonly cacheKey: string;
}

interface ResolvedRequest {
  readonly views: readonly ResolvedView[];
  readonly features: readonly { readonly view: number; readonly feature: string; readonly name: string }[];
  readonly featureNames: readonly string[];
  readonly featureTypes: readonly ValueType[];
}

interface ViewCache {
  generation: number;
  readonly rows: Map<string, OnlineRow | null>;
}

export type PushTarget = 'online' | 'offline' | 'online_and_offline';

export interface PushRequest {
  /** `view` or `view@v2`. */
  readonly featureView: string;
  readonly to: PushTarget;
  readonly rows: readonly Readonly<Record<string, unknown>>[];
}

const maxEntityRows = 1_000;

/** The catalog as lookups read it: possibly a second old, never waited for once loaded. */
export interface CatalogSource {
  recentCatalog(): Promise<Catalog>;
}

/**
 * The read side of online serving: resolves a request against the catalog and answers it from a
 * read-through cache of online rows per view version, reading misses from the online store. The
 * service's own API and the online server's worker thread each hold one.
 */
export class OnlineReader {
  private readonly caches = new Map<string, ViewCache>();
  private resolved = new WeakMap<Catalog, Map<string, ResolvedRequest>>();
  /** False while writes of other replicas may go unannounced: every read goes to the store. */
  private caching = true;

  constructor(
    private readonly catalogs: CatalogSource,
    private readonly online: Pick<OnlineStore, 'read'>,
    private readonly clock: Clock,
    /** Cached rows per view version before its cache is dropped and refilled. */
    private readonly maxCachedRowsPerView = 100_000,
  ) {}

  /** Drops cached rows of a view version (after a materialization or push wrote it). */
  invalidate(view: string, version: number): void {
    const cache = this.caches.get(`${view}@${version}`);
    if (cache) {
      cache.generation += 1;
      cache.rows.clear();
    }
  }

  /**
   * Whether every write to the online store is announced to this reader (its replica listens to
   * the store's notifications). While not, nothing is cached; either way the cache is emptied,
   * since a write may have gone unannounced in between.
   */
  setCoherent(coherent: boolean): void {
    this.caching = coherent;
    for (const cache of this.caches.values()) {
      cache.generation += 1;
      cache.rows.clear();
    }
  }

  async get(request: OnlineFeaturesRequest): Promise<OnlineFeaturesResponse> {
    const resolved = await this.resolve(request);
    const rowCount = entityRowCount(request.entities);
    const now = this.clock.now().getTime();
    // The rows this request answers from, taken from the cache now (a write may clear the cache
    // while the misses are read) and from the store for the misses.
    const rows: (OnlineRow | null | undefined)[][] = [];
    const missing: OnlineKey[] = [];
    const missingAt: { view: number; row: number }[] = [];
    const generations: number[] = [];
    resolved.views.forEach((view, viewIndex) => {
      const columns = view.joinKeys.map((key) => {
        const values = request.entities[key];
        if (!values) throw new ValidationError(`feature view "${view.name}" needs entity key "${key}" (got: ${Object.keys(request.entities).join(', ') || 'none'})`, { view: view.name, joinKey: key });
        return values;
      });
      const cache = this.cacheOf(view.cacheKey);
      generations.push(cache.generation);
      const viewRows = new Array<OnlineRow | null | undefined>(rowCount);
      for (let row = 0; row < rowCount; row += 1) {
        const key = entityKeyOf(columns.map((values) => values[row]!));
        const cached = cache.rows.get(key);
        if (cached !== undefined) viewRows[row] = cached;
        else {
          missing.push({ view: view.name, version: view.version, entityKey: key });
          missingAt.push({ view: viewIndex, row });
        }
      }
      rows.push(viewRows);
    });
    if (missing.length > 0) {
      const found = await this.online.read(missing);
      missing.forEach((key, index) => {
        const { view, row } = missingAt[index]!;
        const stored = found.get(`${key.view}@${key.version}\u0000${key.entityKey}`) ?? null;
        rows[view]![row] = stored;
        const cache = this.cacheOf(resolved.views[view]!.cacheKey);
        // Only cache what was read under the generation seen before the read.
        if (this.caching && cache.generation === generations[view]) {
          if (cache.rows.size >= this.maxCachedRowsPerView) cache.rows.clear();
          cache.rows.set(key.entityKey, stored);
        }
      });
    }
    const results: FeatureVector[] = resolved.features.map((feature) => {
      const view = resolved.views[feature.view]!;
      const viewRows = rows[feature.view]!;
      const vector: FeatureVector = { values: new Array(rowCount), statuses: new Array(rowCount), eventTimestamps: new Array(rowCount) };
      for (let row = 0; row < rowCount; row += 1) {
        const value = lookUpValue(viewRows[row] ?? undefined, feature.feature, view.ttlSeconds, now);
        vector.values[row] = value.value;
        vector.statuses[row] = value.status;
        vector.eventTimestamps[row] = value.eventTimeMs;
      }
      return vector;
    });
    return { featureNames: resolved.featureNames, featureTypes: resolved.featureTypes, results };
  }

  private cacheOf(key: string): ViewCache {
    let cache = this.caches.get(key);
    if (!cache) {
      cache = { generation: 0, rows: new Map() };
      this.caches.set(key, cache);
    }
    return cache;
  }

  private async resolve(request: OnlineFeaturesRequest): Promise<ResolvedRequest> {
    const catalog = await this.catalogs.recentCatalog();
    const signature = request.featureService !== undefined ? `service:${request.featureService}` : `refs:${(request.features ?? []).join(',')}`;
    let perCatalog = this.resolved.get(catalog);
    if (!perCatalog) {
      perCatalog = new Map();
      this.resolved.set(catalog, perCatalog);
    }
    const cached = perCatalog.get(signature);
    if (cached) return cached;
    const result = resolveRequest(catalog, request);
    if (perCatalog.size < 10_000) perCatalog.set(signature, result);
    return result;
  }

}

/** Online lookups (through an `OnlineReader`) and pushes into the online and offline stores. */
export class OnlineFeatures {
  private readonly reader: OnlineReader;
  private lastPushSequence = 0;

  constructor(
    private readonly definitions: DefinitionsApplication,
    private readonly online: OnlineStore,
    private readonly offline: OfflineStore,
    private readonly clock: Clock,
    /** Cached rows per view version before its cache is dropped and refilled. */
    maxCachedRowsPerView = 100_000,
    /** Told of every view version a push wrote (the online server's worker keeps its own cache). */
    private readonly onPushed: (view: string, version: number) => void = () => undefined,
  ) {
    this.reader = new OnlineReader(definitions, online, clock, maxCachedRowsPerView);
  }

  /** Drops cached rows of a view version (after a materialization or push wrote it). */
  invalidate(view: string, version: number): void {
    this.reader.invalidate(view, version);
  }

  /** See `OnlineReader.setCoherent`. */
  setCoherent(coherent: boolean): void {
    this.reader.setCoherent(coherent);
  }

  get(request: OnlineFeaturesRequest): Promise<OnlineFeaturesResponse> {
    return this.reader.get(request);
  }

  async push(request: PushRequest): Promise<{ onlineRowCount: number; offlineRowCount: number }> {
    const catalog = await this.definitions.catalog();
    const ref = parseFeatureRef(request.featureView);
    if (typeof ref === 'string' || ref.feature !== undefined) throw new ValidationError(`"${request.featureView}" is not a feature view: expected "view" or "view@v2"`, { field: 'featureView' });
    const view = viewVersion(catalog, ref.view, ref.version);
    if (!view) throw new NotFoundError(`unknown feature view "${request.featureView}"`, { field: 'featureView' });
    if (request.rows.length === 0) throw new ValidationError('rows is empty', { field: 'rows' });
    if (request.rows.length > 10_000) throw new ValidationError('at most 10000 rows per push', { field: 'rows' });
    const joinKeys = joinKeysOf(catalog, view);
    const rows = request.rows.map((row, index) => pushedRow(view, joinKeys, row, index));
    let offlineRowCount = 0;
    let onlineRowCount = 0;
    if (request.to !== 'online') {
      this.lastPushSequence = Math.max(this.lastPushSequence + 1, this.clock.now().getTime());
      offlineRowCount = await this.offline.push(view, rows, this.lastPushSequence);
    }
    if (request.to !== 'offline') {
      // The latest row per entity only: one upsert may not touch a key twice.
      const latestRows = new Map<string, FeatureRow & { entityKey: string }>();
      for (const row of rows) {
        const entityKey = entityKeyOf(row.keys);
        const seen = latestRows.get(entityKey);
        if (!seen || seen.eventTimeMs <= row.eventTimeMs) latestRows.set(entityKey, { ...row, entityKey });
      }
      onlineRowCount = await this.online.upsert(view.name, view.version, [...latestRows.values()], 'push');
      this.invalidate(view.name, view.version);
      this.onPushed(view.name, view.version);
    }
    return { onlineRowCount, offlineRowCount };
  }
}

function entityRowCount(entities: Readonly<Record<string, readonly EntityValue[]>>): number {
  const lengths = Object.entries(entities).map(([key, values]) => {
    if (!Array.isArray(values)) throw new ValidationError(`entities.${key} must be a list of values`, { field: `entities.${key}` });
    return values.length;
  });
  if (lengths.length === 0) throw new ValidationError('entities is empty: give each join key a list of values', { field: 'entities' });
  const count = lengths[0]!;
  if (lengths.some((length) => length !== count)) throw new ValidationError('every entity key list must have the same length', { field: 'entities' });
  if (count === 0) throw new ValidationError('the entity key lists are empty', { field: 'entities' });
  if (count > maxEntityRows) throw new ValidationError(`at most ${maxEntityRows} entity rows per request`, { field: 'entities' });
  for (const [key, values] of Object.entries(entities)) {
    for (const value of values) {
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
        throw new ValidationError(`entities.${key} holds a value that is not a string, number or boolean`, { field: `entities.${key}` });
      }
    }
  }
  return count;
}

/** Which view versions and features a request reads. */
export function resolveRequest(catalog: Catalog, request: OnlineFeaturesRequest): ResolvedRequest {
  const wanted: { view: AppliedFeatureView; feature: string }[] = [];
  const typeOf = (view: AppliedFeatureView, feature: string): ValueType => view.definition.features.find((candidate) => candidate.name === feature)!.type;
  if (request.featureService !== undefined) {
    const service = latest(catalog.featureServices.get(request.featureService));
    if (!service) throw new ValidationError(`unknown feature service "${request.featureService}"`, { field: 'featureService' });
    for (const feature of service.resolved) wanted.push({ view: viewVersion(catalog, feature.view, feature.version)!, feature: feature.feature });
  } else {
    if (!request.features || request.features.length === 0) throw new ValidationError('give either featureService or features', { field: 'features' });
    for (const text of request.features) {
      const ref = parseFeatureRef(text);
      if (typeof ref === 'string') throw new ValidationError(ref, { field: 'features', reference: text });
      const view = viewVersion(catalog, ref.view, ref.version);
      if (!view) {
        throw new ValidationError(ref.version === undefined ? `unknown feature view "${ref.view}" in "${text}"` : `feature view "${ref.view}" has no version ${ref.version} ("${text}")`, {
          field: 'features',
          reference: text,
        });
      }
      if (ref.feature === undefined) for (const feature of view.definition.features) wanted.push({ view, feature: feature.name });
      else if (!view.definition.features.some((feature) => feature.name === ref.feature)) {
        throw new ValidationError(`feature view "${ref.view}"${ref.version ? ` v${ref.version}` : ''} has no feature "${ref.feature}" ("${text}")`, { field: 'features', reference: text });
      } else wanted.push({ view, feature: ref.feature });
    }
  }
  const views: ResolvedView[] = [];
  const features: { view: number; feature: string; name: string }[] = [];
  for (const { view, feature } of wanted) {
    let index = views.findIndex((candidate) => candidate.name === view.name && candidate.version === view.version);
    if (index < 0) {
      index = views.length;
      views.push({ name: view.name, version: view.version, ttlSeconds: view.definition.ttlSeconds, joinKeys: joinKeysOf(catalog, view), cacheKey: `${view.name}@${view.version}` });
    }
    features.push({ view: index, feature, name: `${view.name}:${feature}` });
  }
  return {
    views,
    features,
    featureNames: features.map((feature) => feature.name),
    featureTypes: wanted.map(({ view, feature }) => typeOf(view, feature)),
  };
}

function pushedRow(view: AppliedFeatureView, joinKeys: readonly string[], row: Readonly<Record<string, unknown>>, index: number): FeatureRow {
  const where = (field: string) => ({ field: `rows[${index}].${field}` });
  if (typeof row !== 'object' || row === null) throw new ValidationError(`rows[${index}] is not an object`, { field: `rows[${index}]` });
  const keys = joinKeys.map((key) => {
    const value = row[key];
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new ValidationError(`rows[${index}] lacks join key "${key}"`, where(key));
    return String(value);
  });
  const time = row.event_time;
  const eventTimeMs = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : Number.NaN;
  if (!Number.isFinite(eventTimeMs)) throw new ValidationError(`rows[${index}].event_time must be an RFC 3339 time or epoch milliseconds`, where('event_time'));
  const types = new Map(view.definition.features.map((feature) => [feature.name, feature.type]));
  for (const name of Object.keys(row)) {
    if (name !== 'event_time' && !joinKeys.includes(name) && !types.has(name)) throw new ValidationError(`feature view "${view.name}" v${view.version} has no feature "${name}"`, where(name));
  }
  const values: Record<string, FeatureValue> = {};
  for (const [name, type] of types) values[name] = checkedValue(row[name], type, () => where(name));
  return { keys, eventTimeMs: Math.trunc(eventTimeMs), values };
}

function checkedValue(value: unknown, type: ValueType, where: () => { field: string }): FeatureValue {
  if (value === undefined || value === null) return null;
  const ok =
    type === 'int64' ? typeof value === 'number' && Number.isInteger(value)
    : type === 'double' ? typeof value === 'number' && Number.isFinite(value)
    : type === 'bool' ? typeof value === 'boolean'
    : type === 'timestamp' ? typeof value === 'string' && Number.isFinite(Date.parse(value))
    : typeof value === 'string';
  if (!ok) throw new ValidationError(`${where().field} must be of type ${type}`, where());
  return value as FeatureValue;
}
