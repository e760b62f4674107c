// The flights scenario of `loopline demo`: the first model through the retraining pipeline itself,
// then March–June 2001 replayed as live traffic on an accelerated clock while the platform closes
// the loop on its own (monitors → alerts → retraining → gate → canary → live comparison →
// promotion or rollback). The demo only plays the world: flights asking for predictions, delays
// arriving as labels, new data landing every simulated day. Every decision is the platform's.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { DemoPlatform, terminalRunStates, type Alert, type PipelineRun } from './demo-platform';
import { FlightsData, type Flight } from './flights-data';
import { LiveView, type LiveState } from './live-view';

const repositoryRoot = resolve(__dirname, '..', '..', '..', '..');
export const pipelineFile = join(repositoryRoot, 'examples', 'pipelines', 'flights-retrain.yaml');
export const featuresFile = join(repositoryRoot, 'examples', 'features', 'flights.yaml');
export const sourceFile = join(repositoryRoot, 'examples', 'demo', 'flights-source.json');
export const pipelineName = 'flights-retrain';
export const sourceName = 'flights';
export const targetName = 'delayed';

const hourMs = 3_600_000;
/** The flights data ends here. */
const dataEnd = new Date('2001-07-01T00:00:00Z');
const dayMs = 24 * hourMs;

export interface ScenarioOptions {
  readonly modelName: string;
  /** Training data of the first model: [trainFrom, replayFrom). */
  readonly trainFrom: Date;
  /** Live traffic: [replayFrom, replayUntil). */
  readonly replayFrom: Date;
  readonly replayUntil: Date;
  /** Share of the flights that enter the platform as data (training sets, features). */
  readonly dataSample: number;
  /** Share of the replayed flights that ask for a prediction. */
  readonly trafficSample: number;
  readonly seed: number;
  /** Simulated hours per real second. */
  readonly speed: number;
  /** Simulated hours between a departure and its label. */
  readonly labelDelayHours: number;
  /** Simulated hours between two data drops (new dataset versions of the source). */
  readonly dataDropHours: number;
  /** Days of flights in every data drop (the "fresh data" a retraining uses). */
  readonly freshWindowDays: number;
  /** Defaults of the pipeline's params for every run (canary, comparison, GBDT). */
  readonly pipelineParams: Readonly<Record<string, unknown>>;
  /** Params of the first run only. */
  readonly initialParams: Readonly<Record<string, unknown>>;
  /** When set, a deliberately worse candidate (these params) is started at this simulated time. */
  readonly badCandidate: { readonly at: Date; readonly params: Readonly<Record<string, unknown>> } | null;
  readonly gate: { readonly minAuc: number; readonly maxDegradation: number | null };
  readonly monitors: {
    readonly windowSize: number;
    readonly driftShare: number;
    readonly metric: string;
    /** null: the first champion's holdout value minus 0.02. */
    readonly threshold: number | null;
    readonly minLabelled: number;
    /** How long after its last announcement a still-breaching alert is announced again. */
    readonly repeatAfter: string;
  };
  /** How long to wait for runs still active when the replay ends. */
  readonly settleTimeoutMs: number;
  readonly concurrency: number;
}

export interface VersionSummary {
  readonly version: number;
  readonly runId: string | null;
  readonly trigger: string;
  readonly reason: string;
  readonly holdout: { readonly auc: number | null; readonly accuracy: number | null };
  readonly live: { readonly labelled: number; readonly accuracy: number | null; readonly rocAuc: number | null };
  readonly outcome: string;
  readonly championAt: string | null;
  readonly championAtSimulated: string | null;
}

export interface ScenarioSummary {
  readonly modelName: string;
  readonly elapsedSeconds: number;
  readonly predictions: number;
  readonly labels: number;
  readonly failedPredictions: number;
  readonly datasetVersions: number;
  readonly alerts: readonly Alert[];
  readonly versions: readonly VersionSummary[];
  readonly runs: readonly { readonly runId: string; readonly status: string; readonly trigger: string; readonly reason: string; readonly version: number | null; readonly deployed: boolean | null; readonly rolledBack: boolean | null; readonly evidence: unknown }[];
  /** Alert detectedAt → the retrained challenger taking canary traffic, per alert-triggered run. */
  readonly reactions: readonly { readonly runId: string; readonly alertId: string; readonly alertKind: string; readonly seconds: number }[];
  readonly lastPredictionId: string | null;
  readonly champion: number | null;
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const iso = (date: Date) => date.toISOString();

/** The pipeline file with the demo's defaults: its landing file, and the scenario's params. */
export function demoPipelineYaml(landingFile: string, params: Readonly<Record<string, unknown>>): string {
  const definition = parseYaml(readFileSync(pipelineFile, 'utf8')) as { params: Record<string, { default?: unknown }> };
  for (const [name, value] of Object.entries({ ...params, dataUri: landingFile })) {
    const param = definition.params[name];
    if (!param) throw new Error(`the pipeline ${pipelineName} has no param "${name}"`);
    param.default = value;
  }
  return stringifyYaml(definition);
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, onWait?: (error: unknown) => void): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
      onWait?.(error);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${Math.round(timeoutMs / 1000)} s${last instanceof Error ? ` (last: ${last.message})` : ''}`);
    await sleep(1_000);
  }
}

function stepOf(run: PipelineRun): string {
  const running = run.tasks.filter((task) => task.status === 'running');
  if (running.length > 0) return running.map((task) => task.taskId).join(',');
  return run.status;
}

function reasonOf(run: PipelineRun): string {
  return typeof run.params.reason === 'string' ? run.params.reason : run.trigger.kind;
}

function outcomeOf(run: PipelineRun): string {
  const task = (id: string) => run.tasks.find((candidate) => candidate.taskId === id);
  const deploy = task('deploy');
  const promote = task('promote');
  if (deploy?.status === 'succeeded') {
    if (deploy.outputs?.rolledBack === true) return `rolled back (${String((deploy.outputs.evidence as { why?: string } | undefined)?.why ?? '')})`;
    return `champion (${String((deploy.outputs?.evidence as { why?: string } | undefined)?.why ?? '')})`;
  }
  if (promote?.status === 'succeeded' && promote.outputs?.promoted === false) return 'refused by the promotion gate';
  if (promote?.status === 'skipped') return 'not promoted (gate or minimum AUC)';
  if (run.status === 'failed') return `run failed at ${run.failedTaskId ?? '?'}: ${run.error?.message ?? ''}`;
  if (run.status === 'running') return `still running (${stepOf(run)})`;
  return run.status;
}

function versionOf(run: PipelineRun): number | null {
  const version = run.tasks.find((task) => task.taskId === 'train')?.outputs?.version;
  return typeof version === 'number' ? version : typeof version === 'string' && version !== '' ? Number(version) : null;
}

/** Maps a model input name to the request-time value of a flight (hour, weekday, distance). */
function requestFeatures(inputNames: readonly string[], flight: Flight): Record<string, number> {
  const weekday = ((flight.date.getUTCDay() + 6) % 7) + 1; // ISO: Monday = 1, as the feature view's weekday(date)
  const values: Record<string, number> = { hour: flight.date.getUTCHours(), weekday, distance: flight.distance };
  const features: Record<string, number> = {};
  for (const [name, value] of Object.entries(values)) {
    const inputs = inputNames.filter((input) => input === name || input.endsWith(`__${name}`));
    for (const input of inputs.length > 0 ? inputs : [name]) features[input] = value;
  }
  return features;
}

export class FlightsScenario {
  private readonly platform: DemoPlatform;
  private readonly data: FlightsData;
  private readonly view: LiveView;
  private readonly landingFile: string;
  private readonly state: LiveState;
  private readonly clockPoints: { real: number; simulated: number }[] = [];
  private readonly labelQueue: { due: number; predictionId: string; value: number }[] = [];
  private readonly noted = new Set<string>();
  private inputNames: string[] = [];
  private lastPredictionId: string | null = null;
  private dataDrop: Promise<void> = Promise.resolve();
  private dropping = false;
  private refreshing = false;
  private rateWindow: { at: number; count: number }[] = [];
  private championSince = new Date();
  private runsCache: PipelineRun[] = [];

  constructor(
    private readonly options: ScenarioOptions,
    env: NodeJS.ProcessEnv,
    workDir: string,
    out: NodeJS.WriteStream,
  ) {
    this.platform = new DemoPlatform(env);
    // Whole weeks that bring the start of the replay to the last seven days (flights-data.ts).
    const shiftDays = Math.max(0, Math.floor((Date.now() - options.replayFrom.getTime()) / (7 * dayMs)) * 7);
    this.data = new FlightsData(join(workDir, 'work'), shiftDays);
    this.view = new LiveView(out);
    this.landingFile = join(workDir, 'landing', 'flights.parquet');
    this.state = {
      simulatedTime: options.replayFrom,
      predictionsPerSecond: 0,
      predictions: 0,
      labels: 0,
      failedPredictions: 0,
      champion: null,
      challenger: null,
      canaryPercent: null,
      championLive: null,
      datasetVersions: 0,
      alerts: [],
      runs: [],
      lastEvent: '',
    };
  }

  /** Folders ingestion must be allowed to import from (LOOPLINE_INGESTION_IMPORT_ROOTS). */
  static importRoot(workDir: string): string {
    return join(workDir, 'landing');
  }

  private note(line: string): void {
    this.view.note(`[demo] ${line}`);
  }

  async run(): Promise<ScenarioSummary> {
    const started = Date.now();
    try {
      await this.setUp();
      await this.firstModel();
      await this.createMonitors();
      await this.replay();
      await this.settle();
      return await this.summarize((Date.now() - started) / 1000);
    } finally {
      this.view.clear();
      await this.data.close();
    }
  }

  private async setUp(): Promise<void> {
    const { options } = this;
    this.note(`slicing flights ${iso(options.trainFrom).slice(0, 10)} → ${iso(options.replayFrom).slice(0, 10)} (${Math.round(options.dataSample * 100)}% of them, with the delayed label)`);
    const rows = await this.data.writeSlice(this.landingFile, options.trainFrom, options.replayFrom, options.dataSample, options.seed);
    this.note(`${rows} flights in ${this.landingFile}`);
    await this.platform.defineSource(sourceName, JSON.parse(readFileSync(sourceFile, 'utf8')));
    await this.platform.applyFeatures(readFileSync(featuresFile, 'utf8'), 'flights.yaml');
    this.note('source "flights" and the feature views of examples/features/flights.yaml applied');
    const thresholds = [
      { metric: 'auc', direction: 'HIGHER_IS_BETTER', lowerBound: options.gate.minAuc, ...(options.gate.maxDegradation === null ? {} : { maxDegradation: options.gate.maxDegradation }) },
    ];
    await this.platform.ensureModel(options.modelName, { name: 'flights-demo', baselineAlias: 'champion', thresholds });
    const pipeline = await this.platform.applyPipeline(demoPipelineYaml(this.landingFile, { ...options.pipelineParams, modelName: options.modelName }));
    this.note(`pipeline ${pipelineName} applied (version ${pipeline.version}): alerts on ${options.modelName} retrain it`);
  }

  private async firstModel(): Promise<void> {
    const run = await this.platform.startRun(pipelineName, { ...this.options.initialParams, reason: `first model: flights ${iso(this.options.trainFrom).slice(0, 10)} → ${iso(this.options.replayFrom).slice(0, 10)}` });
    this.note(`first model through the pipeline itself: run ${run.runId}`);
    let lastStep = '';
    const finished = await waitFor('the first pipeline run', 20 * 60_000, async () => {
      const current = await this.platform.run(run.runId);
      const step = stepOf(current);
      if (step !== lastStep) this.note(`  run ${run.runId.slice(0, 12)}: ${(lastStep = step)}`);
      return terminalRunStates.has(current.status) ? current : undefined;
    });
    if (finished.status !== 'succeeded') throw new Error(`the first pipeline run ${finished.status}: ${outcomeOf(finished)} (loopline pipelines status ${run.runId})`);
    const champion = await this.platform.aliasVersion(this.options.modelName, 'champion');
    if (champion === null) throw new Error(`the first run ended without a champion: ${outcomeOf(finished)}`);
    const version = (await this.platform.versions(this.options.modelName)).find((candidate) => candidate.version === champion);
    this.inputNames = (version?.signature?.inputs ?? []).map((input) => input.name);
    this.state.champion = champion;
    this.note(`champion: ${this.options.modelName} v${champion} (holdout AUC ${version?.metrics.auc?.toFixed(3) ?? '—'}, accuracy ${version?.metrics.accuracy?.toFixed(3) ?? '—'})`);
    this.firstHoldout = version?.metrics ?? {};
    // Serving follows the registry: wait until it answers for the model.
    const probe = await this.data.flights(this.options.replayFrom, new Date(this.options.replayFrom.getTime() + dayMs), this.options.trafficSample, this.options.seed);
    const sample = probe[0];
    if (sample) {
      await waitFor('serving the champion', 120_000, async () => {
        const answer = await this.platform.predict(this.options.modelName, { entities: { origin: sample.origin, destination: sample.destination }, features: requestFeatures(this.inputNames, sample) });
        if (answer.status === 200) return true;
        throw new Error(`HTTP ${answer.status}: ${answer.body.error ?? JSON.stringify(answer.body).slice(0, 200)}`);
      });
    }
  }

  private firstHoldout: Record<string, number> = {};

  private async createMonitors(): Promise<void> {
    const { monitors, modelName } = this.options;
    const holdout = this.firstHoldout[monitors.metric === 'roc_auc' ? 'auc' : monitors.metric];
    const threshold = monitors.threshold ?? (typeof holdout === 'number' ? Number((holdout - 0.02).toFixed(4)) : 0.75);
    // The label delay in real time: the simulated delay on the accelerated clock, plus slack.
    const labelDelaySeconds = Math.max(2, Math.ceil((this.options.labelDelayHours / this.options.speed) * 2));
    await this.platform.putMonitor(`${modelName}-drift`, {
      modelName,
      alias: 'champion',
      window: { kind: 'count', size: monitors.windowSize },
      drift: { method: 'auto', driftShare: monitors.driftShare },
      severity: 'warning',
      repeatAfter: monitors.repeatAfter,
    });
    await this.platform.putMonitor(`${modelName}-${monitors.metric}`, {
      modelName,
      alias: 'champion',
      window: { kind: 'count', size: monitors.windowSize },
      performance: { metric: monitors.metric, threshold, targetName, labelDelay: `${labelDelaySeconds}s`, minLabelled: monitors.minLabelled },
      severity: 'critical',
      repeatAfter: monitors.repeatAfter,
    });
    this.note(`monitors: drift of the inputs and live ${monitors.metric} < ${threshold} over windows of ${monitors.windowSize} predictions (labels ${this.options.labelDelayHours} simulated hours late)`);
  }

  private simulatedAt(realMs: number): Date | null {
    let best: { real: number; simulated: number } | undefined;
    for (const point of this.clockPoints) if (point.real <= realMs) best = point;
    return best ? new Date(best.simulated) : null;
  }

  private async replay(): Promise<void> {
    const { options } = this;
    this.note(`replaying ${iso(options.replayFrom).slice(0, 10)} → ${iso(options.replayUntil).slice(0, 10)}: ${Math.round(options.trafficSample * 1000) / 10}% of the flights ask for a prediction, ${options.speed} simulated hours per second`);
    // Traffic goes on past the end (as far as the data does) while a run is still working, so a
    // canary begun late still gets its labelled traffic instead of timing out.
    const overtime = new Date(Math.min(dataEnd.getTime(), options.replayUntil.getTime() + 21 * dayMs));
    const flights = await this.data.flights(options.replayFrom, overtime, options.trafficSample, options.seed);
    const tickMs = 250;
    let simulated = options.replayFrom.getTime();
    const end = options.replayUntil.getTime();
    let settleDeadline = Number.POSITIVE_INFINITY;
    const goOn = () => {
      if (simulated < end) return true;
      if (settleDeadline === Number.POSITIVE_INFINITY) settleDeadline = Date.now() + options.settleTimeoutMs;
      const active = this.runsCache.some((run) => !terminalRunStates.has(run.status));
      if (active && simulated === end) this.note(`the replay reached ${iso(options.replayUntil).slice(0, 10)} with a pipeline run still active: traffic goes on until it ends (at most ${Math.round(options.settleTimeoutMs / 1000)} s)`);
      return active && simulated < overtime.getTime() && Date.now() < settleDeadline;
    };
    let next = 0;
    let nextDrop = simulated + options.dataDropHours * hourMs;
    let badStarted = false;
    let lastRefresh = 0;
    while (goOn()) {
      const tickStarted = Date.now();
      const until = Math.min(simulated < end ? end : overtime.getTime(), simulated + options.speed * hourMs * (tickMs / 1000));
      const batch: Flight[] = [];
      while (next < flights.length && flights[next]!.date.getTime() < until) batch.push(flights[next++]!);
      await this.predictAll(batch);
      await this.sendDueLabels(until);
      simulated = until;
      this.state.simulatedTime = new Date(simulated);
      this.clockPoints.push({ real: Date.now(), simulated });
      if (simulated >= nextDrop) {
        this.scheduleDataDrop(new Date(nextDrop));
        nextDrop += options.dataDropHours * hourMs;
      }
      if (options.badCandidate && !badStarted && simulated >= options.badCandidate.at.getTime() && !this.runsCache.some((run) => !terminalRunStates.has(run.status))) {
        badStarted = true;
        const run = await this.platform.startRun(pipelineName, { ...options.badCandidate.params, reason: 'a deliberately worse candidate (crippled GBDT params), to show a rollback' });
        this.note(`started a deliberately worse candidate: run ${run.runId}`);
      }
      if (Date.now() - lastRefresh > 2_000) {
        lastRefresh = Date.now();
        void this.refresh();
      }
      this.view.render(this.state);
      const spent = Date.now() - tickStarted;
      if (spent < tickMs) await sleep(tickMs - spent);
    }
    await this.sendDueLabels(Number.POSITIVE_INFINITY);
    await this.dataDrop;
    await this.refresh();
    this.view.render(this.state, true);
  }

  private async predictAll(batch: readonly Flight[]): Promise<void> {
    let index = 0;
    const worker = async () => {
      while (index < batch.length) {
        const flight = batch[index++]!;
        const answer = await this.platform
          .predict(this.options.modelName, { entities: { origin: flight.origin, destination: flight.destination }, features: requestFeatures(this.inputNames, flight) })
          .catch((error: unknown) => ({ status: 0, body: { error: error instanceof Error ? error.message : String(error) } as never }));
        if (answer.status === 200 && answer.body.predictionId) {
          this.state.predictions++;
          this.lastPredictionId = answer.body.predictionId;
          this.labelQueue.push({ due: flight.date.getTime() + this.options.labelDelayHours * hourMs, predictionId: answer.body.predictionId, value: flight.delay > 15 ? 1 : 0 });
        } else {
          this.state.failedPredictions++;
          const message = `prediction failed: HTTP ${answer.status} ${String((answer.body as { error?: unknown }).error ?? '')}`.slice(0, 200);
          if (!this.noted.has(message)) {
            this.noted.add(message);
            this.note(message);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, batch.length) }, worker));
    const now = Date.now();
    this.rateWindow.push({ at: now, count: batch.length });
    this.rateWindow = this.rateWindow.filter((entry) => now - entry.at <= 5_000);
    const span = Math.max(1, now - (this.rateWindow[0]?.at ?? now) + 250);
    this.state.predictionsPerSecond = (this.rateWindow.reduce((sum, entry) => sum + entry.count, 0) * 1000) / span;
  }

  private async sendDueLabels(until: number): Promise<void> {
    this.labelQueue.sort((a, b) => a.due - b.due);
    let due = 0;
    while (due < this.labelQueue.length && this.labelQueue[due]!.due <= until) due++;
    const ready = this.labelQueue.splice(0, due);
    const eventTime = new Date().toISOString();
    for (let start = 0; start < ready.length; start += 500) {
      const chunk = ready.slice(start, start + 500);
      try {
        await this.platform.sendLabels(chunk.map((label) => ({ predictionId: label.predictionId, targetName, value: label.value, eventTime })));
        this.state.labels += chunk.length;
      } catch (error) {
        const message = `labels refused: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200);
        if (!this.noted.has(message)) {
          this.noted.add(message);
          this.note(message);
        }
      }
    }
  }

  /**
   * New flights land: the latest `freshWindowDays` as a new dataset version of the source, which the
   * feature store materializes (keeping online features fresh) and a retraining reads. Skipped when
   * the previous drop is still being ingested: the platform sets the pace.
   */
  private scheduleDataDrop(at: Date): void {
    if (this.dropping) return;
    this.dropping = true;
    const from = new Date(Math.max(this.options.trainFrom.getTime(), at.getTime() - this.options.freshWindowDays * dayMs));
    this.dataDrop = (async () => {
      try {
        const rows = await this.data.writeSlice(this.landingFile, from, at, this.options.dataSample, this.options.seed);
        const result = await this.platform.importFile(sourceName, this.landingFile);
        this.state.datasetVersions++;
        this.state.lastEvent = `new data: flights ${iso(from).slice(0, 10)} → ${iso(at).slice(0, 10)} (${rows} rows) → dataset version ${result.versionId.slice(0, 12)} (${result.status})`;
      } catch (error) {
        this.note(`data drop of ${iso(at).slice(0, 10)} failed: ${error instanceof Error ? error.message : String(error)}`);
      } finally {
        this.dropping = false;
      }
    })();
  }

  private async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    const { modelName } = this.options;
    try {
      const [champion, challenger, alerts, runs, traffic] = await Promise.all([
        this.platform.aliasVersion(modelName, 'champion'),
        this.platform.aliasVersion(modelName, 'challenger'),
        this.platform.alerts(modelName).catch(() => [] as Alert[]),
        this.platform.runs(pipelineName),
        this.platform.serving.get<{ canaryPercent?: number }>(`/v1/traffic/${encodeURIComponent(modelName)}`).catch(() => ({ canaryPercent: undefined })),
      ]);
      if (champion !== this.state.champion && champion !== null) {
        this.note(`new champion: v${champion} (was v${this.state.champion ?? '—'}) at simulated ${iso(this.state.simulatedTime).slice(0, 16)}`);
        this.championSince = new Date();
      }
      this.state.champion = champion;
      this.state.challenger = challenger;
      this.state.canaryPercent = traffic.canaryPercent ?? null;
      for (const alert of alerts) {
        if (!this.noted.has(alert.alertId)) {
          this.noted.add(alert.alertId);
          this.note(`alert: ${alert.kind} (${alert.monitorName}) on v${alert.modelVersion}, ${alert.severity}`);
        }
      }
      this.state.alerts = alerts;
      this.runsCache = runs;
      for (const run of new Map(runs.map((candidate) => [candidate.runId, candidate])).values()) {
        const key = `${run.runId}:${run.status}`;
        if (!this.noted.has(key)) {
          this.noted.add(key);
          if (run.status === 'running' && run.trigger.kind !== 'manual') this.note(`pipeline run ${run.runId.slice(0, 12)} started by ${run.trigger.triggerName ?? run.trigger.kind}: ${reasonOf(run)}`);
          if (terminalRunStates.has(run.status)) this.note(`pipeline run ${run.runId.slice(0, 12)} ${run.status}: v${versionOf(run) ?? '—'} ${outcomeOf(run)}`);
        }
      }
      this.state.runs = runs.map((run) => ({ runId: run.runId, status: run.status, reason: reasonOf(run), step: stepOf(run) }));
      if (champion !== null) {
        const live = await this.platform.performance(modelName, targetName, this.championSince.toISOString()).catch(() => ({ versions: [] }));
        const rows = live.versions.filter((row) => row.version === champion);
        const best = [...rows].sort((a, b) => b.labelled - a.labelled)[0];
        this.state.championLive = { labelled: rows.reduce((sum, row) => sum + row.labelled, 0), accuracy: best?.metrics.accuracy ?? null, rocAuc: best?.metrics.roc_auc ?? null };
      }
    } catch (error) {
      this.state.lastEvent = `status: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200);
    } finally {
      this.refreshing = false;
    }
  }

  /** Runs still active when the replay ends get a bounded time to finish. */
  private async settle(): Promise<void> {
    const deadline = Date.now() + this.options.settleTimeoutMs;
    for (;;) {
      const runs = await this.platform.runs(pipelineName);
      const active = runs.filter((run) => !terminalRunStates.has(run.status));
      if (active.length === 0 || Date.now() > deadline) {
        if (active.length > 0) this.note(`${active.length} run(s) still active at the end: ${active.map((run) => `${run.runId} (${stepOf(run)})`).join(', ')}`);
        return;
      }
      await this.refresh();
      this.view.render(this.state);
      await sleep(2_000);
    }
  }

  private async summarize(elapsedSeconds: number): Promise<ScenarioSummary> {
    const { modelName } = this.options;
    const [versions, runs, history, alerts, live] = await Promise.all([
      this.platform.versions(modelName),
      this.platform.runs(pipelineName),
      this.platform.history(modelName),
      this.platform.alerts(modelName).catch(() => [] as Alert[]),
      this.platform.performance(modelName, targetName).catch(() => ({ versions: [] })),
    ]);
    const runOfVersion = new Map<number, PipelineRun>();
    for (const run of runs) {
      const version = versionOf(run);
      if (version !== null && !runOfVersion.has(version)) runOfVersion.set(version, run);
    }
    const championSet = history.filter((event) => event.type === 'ModelVersionAliasSet' && event.data.alias === 'champion');
    const versionSummaries: VersionSummary[] = versions.map((version) => {
      const run = runOfVersion.get(version.version) ?? null;
      const became = championSet.find((event) => event.data.version === version.version);
      const rows = live.versions.filter((row) => row.version === version.version);
      const best = [...rows].sort((a, b) => b.labelled - a.labelled)[0];
      const simulated = became ? this.simulatedAt(Date.parse(became.time)) : null;
      return {
        version: version.version,
        runId: run?.runId ?? null,
        trigger: run ? (run.trigger.kind === 'manual' ? 'manual' : (run.trigger.triggerName ?? run.trigger.kind)) : '—',
        reason: run ? reasonOf(run) : version.description,
        holdout: { auc: version.metrics.auc ?? null, accuracy: version.metrics.accuracy ?? null },
        live: { labelled: rows.reduce((sum, row) => sum + row.labelled, 0), accuracy: best?.metrics.accuracy ?? null, rocAuc: best?.metrics.roc_auc ?? null },
        outcome: run ? outcomeOf(run) : '—',
        championAt: became?.time ?? null,
        championAtSimulated: simulated ? iso(simulated) : became ? 'before the replay' : null,
      };
    });
    const reactions: { runId: string; alertId: string; alertKind: string; seconds: number }[] = [];
    for (const run of runs) {
      if (run.trigger.kind === 'manual') continue;
      const alert = alerts.find((candidate) => reasonOf(run).includes(candidate.alertId));
      const version = versionOf(run);
      // The version becomes challenger through the gate (promote step); the deploy step sets the
      // canary share right after (its own PUT of the same alias records nothing new).
      const canary = history.find((event) => event.type === 'ModelVersionAliasSet' && event.data.alias === 'challenger' && event.data.version === version);
      if (alert && canary) reactions.push({ runId: run.runId, alertId: alert.alertId, alertKind: alert.kind === 'drift' ? 'drifted window' : 'degraded window', seconds: (Date.parse(canary.time) - Date.parse(alert.detectedAt)) / 1000 });
    }
    return {
      modelName,
      elapsedSeconds,
      predictions: this.state.predictions,
      labels: this.state.labels,
      failedPredictions: this.state.failedPredictions,
      datasetVersions: this.state.datasetVersions,
      alerts,
      versions: versionSummaries,
      runs: runs.map((run) => {
        const deploy = run.tasks.find((task) => task.taskId === 'deploy');
        return {
          runId: run.runId,
          status: run.status,
          trigger: run.trigger.kind === 'manual' ? 'manual' : (run.trigger.triggerName ?? run.trigger.kind),
          reason: reasonOf(run),
          version: versionOf(run),
          deployed: typeof deploy?.outputs?.deployed === 'boolean' ? deploy.outputs.deployed : null,
          rolledBack: typeof deploy?.outputs?.rolledBack === 'boolean' ? deploy.outputs.rolledBack : null,
          evidence: deploy?.outputs?.evidence ?? null,
        };
      }),
      reactions,
      lastPredictionId: this.lastPredictionId,
      champion: await this.platform.aliasVersion(modelName, 'champion'),
    };
  }
}
