// The monitors at work: which version each one follows, which windows are due, what an
// evaluation means for the monitor's alert (raise, keep, resolve), backfills over the stored log,
// default monitors for every model that starts predicting, and the operators' acknowledge and
// dismiss. Time and ids come from the injected clock and id source.
import { IllegalStateError, NotFoundError, ValidationError } from '@loopline/errors';
import { decideAlert, type Verdict } from '../domain/monitor/alert-decision';
import { defaultDriftShare, defaultMinLabelled, defaultRepeatAfter, lastClosedWindow, parseDuration, timeWindows, type MonitorSpec, type WindowRef } from '../domain/monitor/monitor';
import type { ClickHouseLogStore, ModelSeen } from '../adapters/clickhouse/log-store';
import { labelDelayMs, type Evaluation, type WindowEvaluator } from '../adapters/clickhouse/window-evaluator';
import { evidenceJson, raisedMessage, resolvedMessage, type EvidenceInput } from '../adapters/kafka/alert-messages';
import type { AlertKindName, AlertRecord, AlertStatus, MonitoringStorage, MonitorRecord, MonitorState } from '../adapters/postgres/monitoring-storage';

export interface Clock {
  now(): Date;
}

export interface Ids {
  newId(): string;
}

export interface VersionResolver {
  /** The version an alias points at; undefined when not set (or the registry does not know the model). */
  aliasVersion(modelName: string, alias: string): Promise<number | undefined>;
}

export interface MonitoringObserver {
  evaluated?(evaluation: Evaluation): void;
  alertsChanged?(): void;
}

export interface MonitoringDeps {
  readonly storage: MonitoringStorage;
  readonly log: ClickHouseLogStore;
  readonly evaluator: WindowEvaluator;
  readonly versions: VersionResolver;
  readonly clock: Clock;
  readonly ids: Ids;
  readonly defaults: { readonly windowSize: number };
  readonly observer?: MonitoringObserver;
  readonly logger?: { warn(fields: object, message: string): void; info(fields: object, message: string): void };
}

export interface EvaluationOutcome {
  readonly evaluation: Evaluation;
  readonly alert: { readonly action: 'raised' | 'resolved' | 'renotified' | 'kept_open' | 'none'; readonly alertId?: string; readonly kind?: AlertKindName };
}

const systemActor = 'service:monitoring';

export class MonitoringApplication {
  private readonly busy = new Set<string>();

  constructor(private readonly deps: MonitoringDeps) {}

  // ------------------------------------------------------------------------------------------
  // monitors

  putMonitor(spec: MonitorSpec): Promise<MonitorRecord> {
    return this.deps.storage.putMonitor(spec, false);
  }

  monitor(name: string): Promise<MonitorRecord> {
    return this.deps.storage.monitor(name);
  }

  monitors(modelName?: string): Promise<MonitorRecord[]> {
    return this.deps.storage.monitors(modelName);
  }

  /** Deletes a monitor; its unresolved alerts are dismissed (nobody would ever resolve them). */
  async deleteMonitor(name: string, actor: string): Promise<void> {
    await this.deps.storage.monitor(name);
    for (const alert of await this.deps.storage.unresolvedAlerts(name)) {
      await this.resolve(alert, 'dismissed', actor, `monitor ${name} deleted`, undefined);
    }
    await this.deps.storage.deleteMonitor(name);
  }

  /** Evaluates the monitor's latest window now (partial windows included) and applies the alert decision. */
  async evaluateNow(name: string): Promise<EvaluationOutcome> {
    const record = await this.deps.storage.monitor(name);
    const version = await this.followedVersion(record);
    await this.handleReplacement(record, version);
    const window = await this.latestWindow(record.spec, version);
    const outcome = await this.evaluateAndAlert(record.spec, version, window);
    await this.deps.storage.saveState(name, { ...record.state, modelVersion: version, lastEvaluation: outcome.evaluation as unknown as Record<string, unknown>, lastEvaluatedAt: outcome.evaluation.evaluatedAt });
    return outcome;
  }

  /**
   * Runs the monitor over past windows of the stored log: time monitors over [from, to) (default:
   * from the version's first prediction to now), count monitors over every full window. No alert
   * changes unless `raiseAlerts`.
   */
  async backfill(name: string, request: { readonly from?: Date; readonly to?: Date; readonly raiseAlerts: boolean; readonly maxWindows: number }): Promise<{ version: number; evaluations: EvaluationOutcome[] }> {
    const record = await this.deps.storage.monitor(name);
    const spec = record.spec;
    const version = await this.followedVersion(record);
    const windows: WindowRef[] = [];
    if (spec.window.kind === 'time') {
      const sizeMs = parseDuration(spec.window.size)!;
      const span = await this.deps.log.span({ modelName: spec.modelName, modelVersion: version, window: null });
      const fromMs = request.from?.getTime() ?? span?.startMs ?? this.deps.clock.now().getTime();
      const toMs = request.to?.getTime() ?? this.deps.clock.now().getTime();
      if (toMs <= fromMs) throw new ValidationError(`"to" (${new Date(toMs).toISOString()}) must be after "from" (${new Date(fromMs).toISOString()})`, { field: 'to' });
      windows.push(...timeWindows(sizeMs, fromMs, toMs + sizeMs - 1).filter((window) => window.kind === 'time' && window.startMs < toMs));
    } else {
      const total = await this.deps.log.countRows({ modelName: spec.modelName, modelVersion: version, window: null });
      for (let index = 0; (index + 1) * spec.window.size <= total; index += 1) windows.push({ kind: 'count', offset: index * spec.window.size, size: spec.window.size });
    }
    if (windows.length > request.maxWindows) {
      throw new ValidationError(`the backfill covers ${windows.length} windows, more than maxWindows (${request.maxWindows}); narrow from/to or raise maxWindows`, { windows: windows.length });
    }
    const evaluations: EvaluationOutcome[] = [];
    for (const window of windows) {
      if (request.raiseAlerts) evaluations.push(await this.evaluateAndAlert(spec, version, window));
      else evaluations.push({ evaluation: await this.deps.evaluator.evaluate(spec, version, window, this.deps.clock.now()), alert: { action: 'none' } });
    }
    return { version, evaluations };
  }

  // ------------------------------------------------------------------------------------------
  // the scheduler's tick

  /** Evaluates every monitor whose next window filled (count) or closed (time). */
  async tick(): Promise<number> {
    let evaluated = 0;
    for (const record of await this.deps.storage.monitors()) {
      if (this.busy.has(record.spec.name)) continue;
      this.busy.add(record.spec.name);
      try {
        evaluated += await this.tickMonitor(record);
      } catch (error) {
        this.deps.logger?.warn({ err: error, monitor: record.spec.name }, 'monitor evaluation failed; retried on the next tick');
      } finally {
        this.busy.delete(record.spec.name);
      }
    }
    return evaluated;
  }

  private async tickMonitor(record: MonitorRecord): Promise<number> {
    const spec = record.spec;
    let version: number;
    try {
      version = await this.followedVersion(record);
    } catch (error) {
      if (error instanceof NotFoundError) return 0;
      throw error;
    }
    let state = await this.handleReplacement(record, version);
    const nowMs = this.deps.clock.now().getTime();
    const delayMs = labelDelayMs(spec);
    let window: WindowRef | undefined;
    let next: MonitorState = state;
    if (spec.window.kind === 'count') {
      const total = await this.deps.log.countRows({ modelName: spec.modelName, modelVersion: version, window: null });
      const lastFull = Math.floor(total / spec.window.size) - 1;
      const last = state.lastCountWindow ?? -1;
      if (lastFull > last) {
        // Only the newest full window is judged (a backlog is what backfill is for).
        const candidate: WindowRef = { kind: 'count', offset: lastFull * spec.window.size, size: spec.window.size };
        const span = await this.deps.log.span({ modelName: spec.modelName, modelVersion: version, window: candidate });
        if (span && span.endMs + delayMs <= nowMs) {
          window = candidate;
          next = { ...state, lastCountWindow: lastFull };
        }
      }
    } else {
      const sizeMs = parseDuration(spec.window.size)!;
      const candidate = lastClosedWindow(sizeMs, nowMs, delayMs);
      if (candidate.kind === 'time' && candidate.endMs > (state.lastWindowEndMs ?? 0)) {
        window = candidate;
        next = { ...state, lastWindowEndMs: candidate.endMs };
        // A monitor created now starts with the window that closes next, not with history.
        if (state.lastWindowEndMs === undefined && Date.parse(record.createdAt) > candidate.endMs) window = undefined;
      }
    }
    if (!window) {
      if (next !== state) await this.deps.storage.saveState(spec.name, next);
      return 0;
    }
    const outcome = await this.evaluateAndAlert(spec, version, window);
    state = { ...next, modelVersion: version, lastEvaluation: outcome.evaluation as unknown as Record<string, unknown>, lastEvaluatedAt: outcome.evaluation.evaluatedAt };
    await this.deps.storage.saveState(spec.name, state);
    return 1;
  }

  /** The version the monitor watches now: its pinned one, the alias's, or (alias unknown) the latest primary one in the log. */
  private async followedVersion(record: MonitorRecord): Promise<number> {
    const spec = record.spec;
    if (spec.version !== null) return spec.version;
    const alias = spec.alias ?? 'champion';
    let version: number | undefined;
    try {
      version = await this.deps.versions.aliasVersion(spec.modelName, alias);
    } catch (error) {
      this.deps.logger?.warn({ err: error, monitor: spec.name }, 'the registry cannot be reached; following the latest version in the prediction log');
    }
    version ??= await this.deps.log.latestPrimaryVersion(spec.modelName);
    if (version === undefined) throw new NotFoundError(`model "${spec.modelName}" has no "${alias}" alias and no logged predictions yet`, { model: spec.modelName, alias });
    return version;
  }

  /** The alias moved: the old version's unresolved alerts are resolved as MODEL_REPLACED and windows restart. */
  private async handleReplacement(record: MonitorRecord, version: number): Promise<MonitorState> {
    const previous = record.state.modelVersion;
    if (previous === undefined || previous === version) return record.state;
    for (const alert of await this.deps.storage.unresolvedAlerts(record.spec.name)) {
      if (alert.modelVersion !== version) await this.resolve(alert, 'model_replaced', systemActor, `the monitor now follows version ${version}`, undefined);
    }
    const state: MonitorState = { modelVersion: version };
    await this.deps.storage.saveState(record.spec.name, state);
    return state;
  }

  private async latestWindow(spec: MonitorSpec, version: number): Promise<WindowRef> {
    if (spec.window.kind === 'time') {
      const nowMs = this.deps.clock.now().getTime();
      return { kind: 'time', startMs: nowMs - parseDuration(spec.window.size)!, endMs: nowMs + 1 };
    }
    const total = await this.deps.log.countRows({ modelName: spec.modelName, modelVersion: version, window: null });
    return { kind: 'count', offset: Math.max(0, total - spec.window.size), size: spec.window.size };
  }

  private async evaluateAndAlert(spec: MonitorSpec, version: number, window: WindowRef): Promise<EvaluationOutcome> {
    const evaluation = await this.deps.evaluator.evaluate(spec, version, window, this.deps.clock.now());
    this.deps.observer?.evaluated?.(evaluation);
    const verdicts = verdictsOf(evaluation);
    const open = (await this.deps.storage.unresolvedAlerts(spec.name)).find((alert) => alert.modelVersion === version);
    if (open) {
      const decision = decideAlert(verdicts[open.kind], { alertId: open.alertId, modelVersion: open.modelVersion });
      if (decision.kind === 'resolve') {
        await this.resolve(open, 'recovered', systemActor, `a later window is back within the thresholds`, evidenceOf(evaluation, open.kind));
        return { evaluation, alert: { action: 'resolved', alertId: open.alertId, kind: open.kind } };
      }
      if (verdicts[open.kind] === 'breached' && (await this.renotify(spec, open, evaluation))) {
        return { evaluation, alert: { action: 'renotified', alertId: open.alertId, kind: open.kind } };
      }
      return { evaluation, alert: { action: 'kept_open', alertId: open.alertId, kind: open.kind } };
    }
    // Performance (quality or SLO) first: it is the stronger signal; drift otherwise.
    const kind: AlertKindName | undefined = verdicts.performance === 'breached' ? 'performance' : verdicts.drift === 'breached' ? 'drift' : undefined;
    if (!kind) return { evaluation, alert: { action: 'none' } };
    const evidence = evidenceOf(evaluation, kind)!;
    const alertId = this.deps.ids.newId();
    const eventId = this.deps.ids.newId();
    const detectedAt = this.deps.clock.now();
    const alert: AlertRecord = {
      alertId,
      kind,
      modelName: spec.modelName,
      modelVersion: version,
      monitorName: spec.name,
      severity: spec.severity,
      status: 'open',
      evidence: evidenceJson(evidence),
      detectedAt: detectedAt.toISOString(),
    };
    const raised = await this.deps.storage.raiseAlert(alert, {
      eventId,
      type: 'AlertRaised',
      data: { ...alert },
      actor: systemActor,
      time: detectedAt,
      outbox: raisedMessage({ eventId, alertId, modelName: spec.modelName, modelVersion: version, monitorName: spec.name, severity: spec.severity, evidence, detectedAt }),
    });
    this.deps.observer?.alertsChanged?.();
    return { evaluation, alert: raised ? { action: 'raised', alertId, kind } : { action: 'kept_open' } };
  }

  /** Announces a still-breaching open alert again once its repeat interval has passed. */
  private async renotify(spec: MonitorSpec, open: AlertRecord, evaluation: Evaluation): Promise<boolean> {
    const evidence = evidenceOf(evaluation, open.kind);
    if (!evidence) return false;
    const now = this.deps.clock.now();
    const repeatAfterMs = parseDuration(spec.repeatAfter ?? defaultRepeatAfter) ?? parseDuration(defaultRepeatAfter)!;
    const lastNotifiedBefore = new Date(now.getTime() - repeatAfterMs);
    const eventId = this.deps.ids.newId();
    const message = raisedMessage({ eventId, alertId: open.alertId, modelName: open.modelName, modelVersion: open.modelVersion, monitorName: spec.name, severity: open.severity, evidence, detectedAt: now });
    const renotified = await this.deps.storage.renotifyAlert(open.alertId, lastNotifiedBefore, {
      eventId,
      type: 'AlertRenotified',
      data: { alertId: open.alertId, evidence: evidenceJson(evidence) },
      actor: systemActor,
      time: now,
      outbox: message,
    });
    if (renotified) this.deps.logger?.info({ alertId: open.alertId, monitor: spec.name }, 'alert still breaching: announced again');
    return renotified;
  }

  // ------------------------------------------------------------------------------------------
  // alerts

  alerts(filter: { readonly modelName?: string; readonly status?: AlertStatus; readonly limit: number }): Promise<AlertRecord[]> {
    return this.deps.storage.alerts(filter);
  }

  async acknowledge(alertId: string, actor: string, note: string): Promise<AlertRecord> {
    const time = this.deps.clock.now();
    const alert = await this.deps.storage.acknowledgeAlert(alertId, actor, note, {
      eventId: this.deps.ids.newId(),
      type: 'AlertAcknowledged',
      data: { alertId, actor, note },
      actor,
      time,
      // Acknowledging is the operators' bookkeeping: no event on the alerts topic.
      outbox: null,
    });
    this.deps.observer?.alertsChanged?.();
    return alert;
  }

  async dismiss(alertId: string, actor: string, reason: string): Promise<AlertRecord> {
    const alert = await this.deps.storage.alert(alertId);
    if (alert.status === 'resolved') throw new IllegalStateError(`alert "${alertId}" is already resolved (${alert.resolution ?? 'unknown'})`, { alertId });
    return this.resolve(alert, 'dismissed', actor, reason, undefined);
  }

  private async resolve(alert: AlertRecord, resolution: 'recovered' | 'model_replaced' | 'dismissed', actor: string, reason: string, evidence: EvidenceInput | undefined): Promise<AlertRecord> {
    const time = this.deps.clock.now();
    const eventId = this.deps.ids.newId();
    const resolved = await this.deps.storage.resolveAlert(alert.alertId, resolution, actor, reason, {
      eventId,
      type: 'AlertResolved',
      data: { alertId: alert.alertId, resolution, actor, reason, ...(evidence ? { evidence: evidenceJson(evidence) } : {}) },
      actor,
      time,
      outbox: resolvedMessage({
        eventId,
        alertId: alert.alertId,
        modelName: alert.modelName,
        modelVersion: alert.modelVersion,
        monitorName: alert.monitorName,
        kind: alert.kind,
        resolution,
        ...(evidence ? { evidence } : {}),
        actor,
        reason,
        resolvedAt: time,
      }),
    });
    this.deps.observer?.alertsChanged?.();
    return resolved;
  }

  // ------------------------------------------------------------------------------------------
  // default monitors

  /**
   * For every model that predicts: `<model>-drift` (drift on every input of the version its
   * `champion` alias holds, count windows); once labels arrive for it and it is a classifier:
   * `<model>-accuracy` (accuracy below the registered accuracy − 0.05, else below 0.7).
   */
  async ensureDefaultMonitors(seen: readonly ModelSeen[], registeredMetrics: (model: string, version: number) => Promise<Record<string, number>>): Promise<string[]> {
    const created: string[] = [];
    const models = new Map<string, number>();
    for (const entry of seen) models.set(entry.modelName, Math.max(models.get(entry.modelName) ?? 0, entry.modelVersion));
    for (const [modelName, latestVersion] of models) {
      const driftName = defaultMonitorName(modelName, 'drift');
      const drift: MonitorSpec = {
        name: driftName,
        modelName,
        alias: 'champion',
        version: null,
        window: { kind: 'count', size: this.deps.defaults.windowSize },
        drift: { method: 'auto', driftShare: defaultDriftShare, predictionDrift: true },
        performance: null,
        slo: null,
        severity: 'warning',
      };
      if (await this.deps.storage.createMonitorIfAbsent(drift)) created.push(driftName);
      const accuracyName = defaultMonitorName(modelName, 'accuracy');
      const targets = await this.deps.log.labelTargets(modelName);
      if (targets.length === 0) continue;
      const [metrics] = await this.deps.log.performance({ modelName, modelVersion: latestVersion, window: null, targetName: targets[0]! });
      if (!metrics || metrics.task !== 'classification' || metrics.labelled === 0) continue;
      let threshold = 0.7;
      try {
        const registered = await registeredMetrics(modelName, latestVersion);
        if (typeof registered.accuracy === 'number' && Number.isFinite(registered.accuracy)) threshold = Math.max(0, registered.accuracy - 0.05);
      } catch {
        // Registry unreachable: the fixed default stands.
      }
      const accuracy: MonitorSpec = {
        name: accuracyName,
        modelName,
        alias: 'champion',
        version: null,
        window: { kind: 'count', size: this.deps.defaults.windowSize },
        drift: null,
        performance: { metric: 'accuracy', threshold, targetName: targets[0]!, labelDelay: '0s', minLabelled: defaultMinLabelled },
        slo: null,
        severity: 'warning',
      };
      if (await this.deps.storage.createMonitorIfAbsent(accuracy)) created.push(accuracyName);
    }
    return created;
  }
}

export function defaultMonitorName(modelName: string, kind: 'drift' | 'accuracy'): string {
  return `${modelName}-${kind}`.slice(0, 200);
}

function verdictsOf(evaluation: Evaluation): Record<AlertKindName, Verdict> {
  const performanceVerdicts = [evaluation.performance?.verdict, evaluation.slo?.verdict].filter((verdict): verdict is Verdict => verdict !== undefined);
  const performance: Verdict = performanceVerdicts.includes('breached') ? 'breached' : performanceVerdicts.includes('healthy') ? 'healthy' : 'not_judged';
  const driftVerdicts = [evaluation.drift?.verdict, evaluation.predictionDrift?.verdict].filter((verdict): verdict is Verdict => verdict !== undefined);
  const drift: Verdict = driftVerdicts.includes('breached') ? 'breached' : evaluation.drift?.verdict === 'healthy' ? 'healthy' : 'not_judged';
  return { drift, performance };
}

function windowMs(evaluation: Evaluation): { startMs: number; endMs: number } {
  const evaluatedAt = Date.parse(evaluation.evaluatedAt);
  return {
    startMs: evaluation.window.start ? Date.parse(evaluation.window.start) : evaluatedAt,
    endMs: evaluation.window.end ? Date.parse(evaluation.window.end) : evaluatedAt,
  };
}

function evidenceOf(evaluation: Evaluation, kind: AlertKindName): EvidenceInput | undefined {
  const { startMs, endMs } = windowMs(evaluation);
  if (kind === 'drift') {
    const drift = evaluation.drift;
    if (!drift) return undefined;
    const features = [...drift.features];
    if (evaluation.predictionDrift?.result) features.push(evaluation.predictionDrift.result);
    return {
      kind: 'drift',
      drift: {
        windowStartMs: startMs,
        windowEndMs: endMs,
        referenceUri: drift.reference.uri,
        sampleSize: evaluation.sampleSize,
        features,
        driftedShare: drift.driftedShare,
        driftShareThreshold: drift.driftShareThreshold,
      },
    };
  }
  const performance = evaluation.performance;
  const sloBreach = evaluation.slo?.checks.find((entry) => entry.breached);
  if (performance && performance.value !== null && (performance.verdict === 'breached' || !sloBreach)) {
    return {
      kind: 'performance',
      performance: {
        metric: performance.metric,
        value: performance.value,
        threshold: performance.threshold,
        higherIsBetter: performance.higherIsBetter,
        ...(performance.baselineValue === undefined ? {} : { baselineValue: performance.baselineValue }),
        windowStartMs: startMs,
        windowEndMs: endMs,
        sampleSize: performance.labelled,
      },
    };
  }
  const check = sloBreach ?? evaluation.slo?.checks.find((entry) => entry.value !== null);
  if (check && check.value !== null) {
    return {
      kind: 'performance',
      performance: { metric: check.metric, value: check.value, threshold: check.threshold, higherIsBetter: false, windowStartMs: startMs, windowEndMs: endMs, sampleSize: evaluation.sampleSize },
    };
  }
  return undefined;
}
