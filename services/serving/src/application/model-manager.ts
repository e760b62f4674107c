import { createHash } from 'node:crypto';
import type { Logger } from '@loopline/telemetry';
import { zeroElements, elementCount } from '../domain/tensor/datatype';
import { signatureDifference } from '../domain/tensor/signature-check';
import { isBatchable, type Tensor } from '../domain/tensor/tensor';
import { BatchScheduler } from './batch-scheduler';
import type { InferenceRuntime, ModelSource, RegisteredVersion } from './ports';
import { ServedVersion } from './served-version';
import { ModelLoadError, type LoadFailureReason } from './serving-error';

export const championAlias = 'champion';
export const challengerAlias = 'challenger';

/** What a failed load reports (as the `ModelLoadFailed` event). */
export interface ModelLoadFailure {
  readonly modelName: string;
  readonly version: number;
  readonly alias: string;
  readonly artifactUri: string;
  readonly artifactSha256: string;
  readonly reason: LoadFailureReason;
  readonly message: string;
  /** The version still serving under the alias; 0 when none. */
  readonly servingVersion: number;
  readonly failedAt: Date;
}

/** Where load outcomes go: the model-loads topic, metrics. Never throws. */
export interface ModelLoadListener {
  loadFailed(failure: ModelLoadFailure): void;
  loaded(modelName: string, version: number, alias: string, durationMs: number): void;
}

export interface ModelManagerOptions {
  readonly source: ModelSource;
  readonly runtime: InferenceRuntime;
  readonly listener: ModelLoadListener;
  readonly logger: Logger;
  /** Whether this instance serves a model at all (configuration). */
  readonly servesModel: (modelName: string) => boolean;
  /** Whether an alias of a model must be loaded: the champion always, the challenger when a traffic policy needs it. */
  readonly wantsAlias: (modelName: string, alias: string) => boolean;
  readonly batching: { readonly maxBatchRows: number; readonly maxDelayMs: number };
  readonly onExpired: () => void;
  readonly onRun: (jobs: number, rows: number) => void;
  readonly now: () => number;
}

interface ModelEntry {
  readonly name: string;
  /** Alias → version, as the registry says (whether or not loaded here). */
  readonly desired: Map<string, number>;
  /** Alias → the version serving it here. */
  readonly serving: Map<string, ServedVersion>;
  /** Alias → the last load failure, until a load of that alias succeeds. */
  readonly failures: Map<string, string>;
  /** Loads and swaps of one model run one after the other. */
  chain: Promise<void>;
}

/**
 * Keeps this instance serving what the registry's aliases point at. A load runs in the
 * background — download, sha256 check, session, signature check, warm-up with a zero tensor — and
 * only then does the alias switch to the new version, atomically (one map write): a request
 * resolves either the old or the new version, never neither. The old version is retired and freed
 * when its in-flight requests are done. A failed load leaves the old version serving and is
 * reported. Loads of one model are serialized; a load made stale by a newer alias move is skipped.
 */
export class ModelManager {
  private readonly models = new Map<string, ModelEntry>();
  private initialLoadFinished = false;

  constructor(private readonly options: ModelManagerOptions) {}

  get ready(): boolean {
    return this.initialLoadFinished;
  }

  /**
   * Loads what the registry's aliases say at start, retrying the registry until it answers.
   * Readiness turns true when this resolves, whether or not every model loaded (a model that
   * failed is reported and answers 404/503 on its own).
   */
  async loadInitial(signal: AbortSignal, retryMs = 1_000): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return;
      try {
        const models = await this.options.source.listModels();
        const loads: Promise<void>[] = [];
        for (const model of models) {
          if (!this.options.servesModel(model.name)) continue;
          for (const [alias, version] of Object.entries(model.aliases)) loads.push(this.setAlias(model.name, alias, version));
        }
        await Promise.all(loads);
        this.initialLoadFinished = true;
        this.options.logger.info({ models: this.describe() }, 'initial model load finished');
        return;
      } catch (error) {
        // A warning now and then, not one a second, while the registry is away.
        if (attempt % 30 === 1) this.options.logger.warn({ err: error, attempt }, `cannot list the registry's models yet; retrying every ${retryMs} ms`);
        await delay(retryMs, signal);
      }
    }
  }

  /** The registry moved `alias` of `modelName` to `version`; resolves when this instance follows. */
  setAlias(modelName: string, alias: string, version: number): Promise<void> {
    if (!this.options.servesModel(modelName)) return Promise.resolve();
    const entry = this.entry(modelName);
    entry.desired.set(alias, version);
    return this.enqueue(entry, () => this.reconcile(entry, alias));
  }

  /** The registry removed `alias`: nothing is served under it any more. */
  removeAlias(modelName: string, alias: string): Promise<void> {
    const entry = this.models.get(modelName);
    if (!entry) return Promise.resolve();
    entry.desired.delete(alias);
    return this.enqueue(entry, () => this.reconcile(entry, alias));
  }

  /** Re-checks which aliases of a model must be loaded (after its traffic policy changed). */
  refresh(modelName: string): Promise<void> {
    const entry = this.models.get(modelName);
    if (!entry) return Promise.resolve();
    const aliases = new Set([...entry.desired.keys(), ...entry.serving.keys()]);
    return this.enqueue(entry, async () => {
      for (const alias of aliases) await this.reconcile(entry, alias);
    });
  }

  /** The version serving `alias` of a model, if any. */
  servedUnder(modelName: string, alias: string): ServedVersion | undefined {
    return this.models.get(modelName)?.serving.get(alias);
  }

  /** A loaded version of a model, whichever alias it serves. */
  servedVersion(modelName: string, version: number): ServedVersion | undefined {
    const entry = this.models.get(modelName);
    if (!entry) return undefined;
    for (const served of entry.serving.values()) if (served.version === version) return served;
    return undefined;
  }

  /** Versions of a model loaded here, ascending. */
  loadedVersions(modelName: string): number[] {
    const entry = this.models.get(modelName);
    if (!entry) return [];
    return [...new Set([...entry.serving.values()].map((served) => served.version))].sort((a, b) => a - b);
  }

  /** Whether the registry knows the model (an alias was ever seen for it here). */
  knows(modelName: string): boolean {
    return this.models.has(modelName);
  }

  /** Whether `alias` of the model is wanted but not loaded yet (first load in progress). */
  isLoading(modelName: string, alias: string): boolean {
    const entry = this.models.get(modelName);
    return entry !== undefined && entry.desired.has(alias) && !entry.serving.has(alias) && !entry.failures.has(alias);
  }

  /** Why the alias's last load failed, if it did. */
  failureOf(modelName: string, alias: string): string | undefined {
    return this.models.get(modelName)?.failures.get(alias);
  }

  /** Alias → version serving it, per model: for logs and the readiness detail. */
  describe(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const entry of this.models.values()) out[entry.name] = Object.fromEntries([...entry.serving].map(([alias, served]) => [alias, served.version]));
    return out;
  }

  /** Waits for queued loads, then frees every loaded version (shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.models.values()].map((entry) => entry.chain));
    const all = new Set([...this.models.values()].flatMap((entry) => [...entry.serving.values()]));
    for (const entry of this.models.values()) entry.serving.clear();
    await Promise.all([...all].map((served) => served.retire()));
  }

  private entry(modelName: string): ModelEntry {
    let entry = this.models.get(modelName);
    if (!entry) {
      entry = { name: modelName, desired: new Map(), serving: new Map(), failures: new Map(), chain: Promise.resolve() };
      this.models.set(modelName, entry);
    }
    return entry;
  }

  private enqueue(entry: ModelEntry, task: () => Promise<void>): Promise<void> {
    const run = entry.chain.then(task).catch((error: unknown) => {
      this.options.logger.error({ err: error, model: entry.name }, 'model reconciliation failed');
    });
    entry.chain = run;
    return run;
  }

  /** Brings one alias of a model to its desired state. */
  private async reconcile(entry: ModelEntry, alias: string): Promise<void> {
    const wanted = entry.desired.get(alias);
    const current = entry.serving.get(alias);
    if (wanted === undefined || !this.options.wantsAlias(entry.name, alias)) {
      if (current) this.swap(entry, alias, undefined);
      return;
    }
    if (current?.version === wanted) return;
    // Another alias may already serve that version (e.g. the challenger being promoted): share it.
    const loaded = this.servedVersion(entry.name, wanted) ?? (await this.load(entry, alias, wanted));
    if (!loaded) return;
    // A newer move of the alias arrived while loading: the next queued task handles it.
    if (entry.desired.get(alias) !== wanted) {
      if (![...entry.serving.values()].includes(loaded)) await loaded.retire();
      return;
    }
    this.swap(entry, alias, loaded);
  }

  /** The atomic switch: one map write; the version no alias uses any more is retired. */
  private swap(entry: ModelEntry, alias: string, next: ServedVersion | undefined): void {
    const previous = entry.serving.get(alias);
    if (next) entry.serving.set(alias, next);
    else entry.serving.delete(alias);
    if (previous && previous !== next && ![...entry.serving.values()].includes(previous)) {
      void previous.retire();
    }
    if (next) {
      this.options.logger.info({ model: entry.name, alias, version: next.version, previous: previous?.version }, `${entry.name}@${alias} now serves version ${next.version}`);
    }
  }

  private async load(entry: ModelEntry, alias: string, version: number): Promise<ServedVersion | undefined> {
    const started = this.options.now();
    let registered: RegisteredVersion | undefined;
    try {
      registered = await this.options.source.getVersion(entry.name, version);
      if (!registered) throw new ModelLoadError('ARTIFACT_NOT_FOUND', `the registry has no version ${version} of model '${entry.name}'`);
      const bytes = await this.download(entry.name, version);
      const digest = createHash('sha256').update(bytes).digest('hex');
      if (digest !== registered.artifact.sha256.toLowerCase()) {
        throw new ModelLoadError('CHECKSUM_MISMATCH', `the artifact's sha256 is ${digest}, the registry recorded ${registered.artifact.sha256}`);
      }
      const model = await this.options.runtime.load(bytes);
      const served = new ServedVersion(
        entry.name,
        version,
        model,
        new BatchScheduler(model, {
          ...this.options.batching,
          batchable: isBatchable(model.signature),
          now: this.options.now,
          onExpired: this.options.onExpired,
          onRun: this.options.onRun,
        }),
        (released) => this.options.logger.info({ model: released.modelName, version: released.version }, `released ${released.modelName} version ${released.version}`),
      );
      try {
        const difference = signatureDifference(registered.signature, model.signature);
        if (difference) throw new ModelLoadError('SIGNATURE_MISMATCH', difference);
        await this.warmUp(served);
      } catch (error) {
        await served.retire();
        throw error;
      }
      entry.failures.delete(alias);
      this.options.listener.loaded(entry.name, version, alias, this.options.now() - started);
      return served;
    } catch (error) {
      const failure = error instanceof ModelLoadError ? error : new ModelLoadError('ARTIFACT_NOT_FOUND', messageOf(error));
      const servingVersion = entry.serving.get(alias)?.version ?? 0;
      entry.failures.set(alias, `version ${version}: ${failure.message}`);
      this.options.logger.error(
        { model: entry.name, alias, version, reason: failure.reason, servingVersion },
        `could not load ${entry.name} version ${version} for ${alias}: ${failure.message}${servingVersion ? `; version ${servingVersion} keeps serving` : ''}`,
      );
      this.options.listener.loadFailed({
        modelName: entry.name,
        version,
        alias,
        artifactUri: registered?.artifact.uri ?? '',
        artifactSha256: registered?.artifact.sha256 ?? '',
        reason: failure.reason,
        message: failure.message,
        servingVersion,
        failedAt: new Date(this.options.now()),
      });
      return undefined;
    }
  }

  private async download(modelName: string, version: number): Promise<Buffer> {
    try {
      return await this.options.source.downloadArtifact(modelName, version);
    } catch (error) {
      throw new ModelLoadError('ARTIFACT_NOT_FOUND', `downloading the artifact failed: ${messageOf(error)}`);
    }
  }

  /** One run on zeros shaped like the signature (variable dimensions as 1): the first run allocates, so requests do not pay for it. */
  private async warmUp(served: ServedVersion): Promise<void> {
    const inputs: Tensor[] = served.signature.inputs.map((spec) => {
      const shape = spec.shape.map((dim) => (dim === -1 ? 1 : dim));
      return { name: spec.name, datatype: spec.datatype, shape, data: zeroElements(spec.datatype, elementCount(shape)) };
    });
    try {
      await served.model.run(inputs, served.signature.outputs.map((output) => output.name));
    } catch (error) {
      throw new ModelLoadError('WARMUP_FAILED', `the warm-up inference failed: ${messageOf(error)}`);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
