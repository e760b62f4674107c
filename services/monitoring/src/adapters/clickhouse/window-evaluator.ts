// One evaluation of a monitor over one window, everything aggregated inside ClickHouse: drift of
// every feature against the version's reference (computeDataDrift), prediction drift (the score
// against the version's first window of live traffic), data quality against the reference (null
// rates, unseen categories, out-of-range values), quality metrics over labelled rows, latency.
import { computeDataDrift, type FeatureDriftResult } from './drift-sql';
import type { ClickHouseLogStore } from './log-store';
import type { ReferenceData, ReferenceFeature, ReferenceSet } from './reference-data';
import { featureColumn, finiteOrNull, windowRowsSql } from './sql';
import { breaches, type Verdict } from '../../domain/monitor/alert-decision';
import { higherIsBetter, parseDuration, type MonitorSpec, type WindowRef } from '../../domain/monitor/monitor';

export interface FeatureQuality {
  readonly feature: string;
  readonly kind: 'numerical' | 'categorical';
  readonly missingRate: number | null;
  readonly referenceMissingRate: number | null;
  /** Numerical: share of present values outside the reference's [min, max]. */
  readonly outOfRangeShare?: number | null;
  /** Categorical: share of present values never seen in the reference. */
  readonly unseenShare?: number | null;
}

export interface DriftOutcome {
  readonly verdict: Verdict;
  readonly reason?: string;
  readonly reference: { readonly source: string; readonly detail: string; readonly rows: number; readonly uri: string };
  readonly features: readonly FeatureDriftResult[];
  readonly notTested: readonly { readonly feature: string; readonly reason: string }[];
  readonly driftedShare: number;
  readonly driftShareThreshold: number;
}

export interface PerformanceOutcome {
  readonly verdict: Verdict;
  readonly reason?: string;
  readonly metric: string;
  readonly value: number | null;
  readonly threshold: number;
  readonly higherIsBetter: boolean;
  readonly baselineValue?: number;
  readonly labelled: number;
  readonly predictions: number;
  readonly minLabelled: number;
  readonly metrics: Record<string, number | null>;
}

export interface SloOutcome {
  readonly verdict: Verdict;
  readonly checks: readonly { readonly metric: 'latency_p99_ms' | 'error_rate'; readonly value: number | null; readonly threshold: number; readonly breached: boolean; readonly note?: string }[];
}

export interface Evaluation {
  readonly monitorName: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly window: { readonly kind: 'count' | 'time'; readonly start: string | null; readonly end: string | null; readonly offset?: number; readonly size?: number };
  readonly sampleSize: number;
  readonly evaluatedAt: string;
  readonly drift?: DriftOutcome;
  readonly predictionDrift?: { readonly verdict: Verdict; readonly reason?: string; readonly result?: FeatureDriftResult };
  readonly dataQuality?: readonly FeatureQuality[];
  readonly performance?: PerformanceOutcome;
  readonly slo?: SloOutcome;
}

export interface EvaluatorSources {
  readonly store: ClickHouseLogStore;
  readonly references: ReferenceData;
  /** Registered metrics of a version (the baseline of performance evidence). */
  readonly registeredMetrics: (modelName: string, version: number) => Promise<Record<string, number>>;
}

const scoreFeature = '__prediction';

export class WindowEvaluator {
  constructor(private readonly sources: EvaluatorSources) {}

  async evaluate(spec: MonitorSpec, version: number, window: WindowRef, now: Date): Promise<Evaluation> {
    const { store } = this.sources;
    const selection = { modelName: spec.modelName, modelVersion: version, window };
    const span = await store.span(selection);
    const sampleSize = span ? await store.countRows(selection) : 0;
    const evaluation: {
      -readonly [K in keyof Evaluation]: Evaluation[K];
    } = {
      monitorName: spec.name,
      modelName: spec.modelName,
      modelVersion: version,
      window:
        window.kind === 'time'
          ? { kind: 'time', start: new Date(window.startMs).toISOString(), end: new Date(window.endMs).toISOString() }
          : { kind: 'count', offset: window.offset, size: window.size, start: span ? new Date(span.startMs).toISOString() : null, end: span ? new Date(span.endMs).toISOString() : null },
      sampleSize,
      evaluatedAt: now.toISOString(),
    };
    if (spec.drift) {
      const reference = await this.sources.references.reference(spec.modelName, version);
      const { drift, quality } = await this.drift(spec, reference, selection, sampleSize);
      evaluation.drift = drift;
      evaluation.dataQuality = quality;
      if (spec.drift.predictionDrift) evaluation.predictionDrift = await this.predictionDrift(spec, version, window, sampleSize);
    }
    if (spec.performance) evaluation.performance = await this.performance(spec, version, window, sampleSize);
    if (spec.slo) evaluation.slo = await this.slo(spec, version, window);
    return evaluation;
  }

  private async drift(
    spec: MonitorSpec,
    reference: ReferenceSet,
    selection: { modelName: string; modelVersion: number; window: WindowRef },
    sampleSize: number,
  ): Promise<{ drift: DriftOutcome; quality: FeatureQuality[] }> {
    const driftSpec = spec.drift!;
    const uri =
      reference.source === 'training_set'
        ? `loopline-feature-store:training-sets/${reference.detail}`
        : reference.source === 'profile'
          ? `loopline-registry:models/${spec.modelName}/versions/${reference.modelVersion}/reference-profile`
          : '';
    const base = {
      reference: { source: reference.source, detail: reference.detail, rows: reference.rowCount, uri },
      driftShareThreshold: driftSpec.driftShare,
      features: [] as FeatureDriftResult[],
      driftedShare: 0,
    };
    if (reference.source === 'none') return { drift: { ...base, verdict: 'not_judged', reason: `no reference data: ${reference.detail}`, notTested: [] }, quality: [] };
    if (sampleSize === 0) return { drift: { ...base, verdict: 'not_judged', reason: 'the window has no predictions', notTested: [] }, quality: [] };
    const known = new Map(reference.features.map((feature) => [feature.name, feature]));
    const notTested: { feature: string; reason: string }[] = [];
    const wanted: ReferenceFeature[] = [];
    for (const name of driftSpec.features ?? reference.features.map((feature) => feature.name)) {
      const feature = known.get(name);
      if (feature) wanted.push(feature);
      else notTested.push({ feature: name, reason: 'not a model input of this version' });
    }
    const quality = await this.quality(reference, wanted, selection);
    const testable = wanted.filter((feature) => {
      const row = quality.find((entry) => entry.feature === feature.name)!;
      if (row.missingRate === 1) notTested.push({ feature: feature.name, reason: 'no value in the window' });
      else if (row.referenceMissingRate === 1) notTested.push({ feature: feature.name, reason: 'no value in the reference' });
      else return true;
      return false;
    });
    if (testable.length === 0) return { drift: { ...base, verdict: 'not_judged', reason: 'no feature can be tested', notTested }, quality };
    const result = await computeDataDrift(this.sources.store.client, {
      reference: this.sources.references.rowsSql(reference, testable),
      current: windowRowsSql(this.sources.store.tables, selection, testable.map((feature) => featureColumn(feature.name, feature.kind)).join(', ')),
      features: testable.map((feature) => ({ name: feature.name, kind: feature.kind })),
      method: driftSpec.method,
      ...(driftSpec.threshold === undefined ? {} : { threshold: driftSpec.threshold }),
      driftShare: driftSpec.driftShare,
    });
    return {
      drift: { ...base, verdict: result.drifted ? 'breached' : 'healthy', features: result.features, driftedShare: result.driftedShare, notTested },
      quality,
    };
  }

  private async quality(reference: ReferenceSet, features: readonly ReferenceFeature[], selection: { modelName: string; modelVersion: number; window: WindowRef }): Promise<FeatureQuality[]> {
    if (features.length === 0) return [];
    const { store, references } = this.sources;
    const refRows = references.rowsSql(reference, features);
    const refAggregates = features.map((feature, index) =>
      feature.kind === 'numerical'
        ? `countIf(isNull(${col(feature)})) / greatest(count(), 1) AS m${index}, minOrNull(${col(feature)}) AS lo${index}, maxOrNull(${col(feature)}) AS hi${index}`
        : `countIf(isNull(${col(feature)})) / greatest(count(), 1) AS m${index}`,
    );
    const [ref] = await store.query<Record<string, unknown>>(`SELECT ${refAggregates.join(', ')} FROM (${refRows})`);
    const current = windowRowsSql(store.tables, selection, features.map((feature) => featureColumn(feature.name, feature.kind)).join(', '));
    const curAggregates = features.map((feature, index) => {
      const missing = `countIf(isNull(${col(feature)})) / greatest(count(), 1) AS m${index}`;
      if (feature.kind === 'numerical') {
        const low = finiteOrNull(ref?.[`lo${index}`]);
        const high = finiteOrNull(ref?.[`hi${index}`]);
        if (low === null || high === null) return `${missing}, CAST(NULL AS Nullable(Float64)) AS x${index}`;
        return `${missing}, countIf(isNotNull(${col(feature)}) AND (${col(feature)} < ${low} OR ${col(feature)} > ${high})) / greatest(countIf(isNotNull(${col(feature)})), 1) AS x${index}`;
      }
      const seen = `SELECT DISTINCT ${col(feature)} FROM (${references.rowsSql(reference, [feature])}) WHERE isNotNull(${col(feature)})`;
      return `${missing}, countIf(isNotNull(${col(feature)}) AND ${col(feature)} NOT IN (${seen})) / greatest(countIf(isNotNull(${col(feature)})), 1) AS x${index}`;
    });
    const [cur] = await store.query<Record<string, unknown>>(`SELECT ${curAggregates.join(', ')} FROM (${current})`);
    return features.map((feature, index) => ({
      feature: feature.name,
      kind: feature.kind,
      missingRate: finiteOrNull(cur?.[`m${index}`]),
      referenceMissingRate: finiteOrNull(ref?.[`m${index}`]),
      ...(feature.kind === 'numerical' ? { outOfRangeShare: finiteOrNull(cur?.[`x${index}`]) } : { unseenShare: finiteOrNull(cur?.[`x${index}`]) }),
    }));
  }

  /** The window's scores against the version's first `baselineSize` predictions (the live baseline). */
  private async predictionDrift(spec: MonitorSpec, version: number, window: WindowRef, sampleSize: number): Promise<NonNullable<Evaluation['predictionDrift']>> {
    const { store } = this.sources;
    const baselineSize = window.kind === 'count' ? window.size : Math.max(1_000, sampleSize);
    const score = `coalesce(predicted_score, predicted_value) AS ${scoreFeature}`;
    const baseline = { modelName: spec.modelName, modelVersion: version, window: { kind: 'count' as const, offset: 0, size: baselineSize } };
    const current = { modelName: spec.modelName, modelVersion: version, window };
    const [counts] = await store.query<{ baseline_scores: number; current_scores: number; overlap: number }>(
      `SELECT
         (SELECT countIf(isNotNull(${scoreFeature})) FROM (${windowRowsSql(store.tables, baseline, score)})) AS baseline_scores,
         (SELECT countIf(isNotNull(${scoreFeature})) FROM (${windowRowsSql(store.tables, current, score)})) AS current_scores,
         (SELECT count() FROM (${windowRowsSql(store.tables, current, 'prediction_id, row_index')}) WHERE (prediction_id, row_index) IN (${windowRowsSql(store.tables, baseline, 'prediction_id, row_index')})) AS overlap`,
    );
    if (!counts || Number(counts.baseline_scores) === 0 || Number(counts.current_scores) === 0) return { verdict: 'not_judged', reason: 'the model logs no score or value' };
    if (Number(counts.overlap) > 0) return { verdict: 'not_judged', reason: 'the window overlaps the baseline (the version’s first window)' };
    const result = await computeDataDrift(store.client, {
      reference: windowRowsSql(store.tables, baseline, score),
      current: windowRowsSql(store.tables, current, score),
      features: [{ name: scoreFeature, kind: 'numerical' }],
      method: spec.drift?.method ?? 'auto',
      ...(spec.drift?.threshold === undefined ? {} : { threshold: spec.drift.threshold }),
    });
    const feature = result.features[0]!;
    return { verdict: feature.drifted ? 'breached' : 'healthy', result: feature };
  }

  private async performance(spec: MonitorSpec, version: number, window: WindowRef, sampleSize: number): Promise<PerformanceOutcome> {
    const performance = spec.performance!;
    const [metrics] = await this.sources.store.performance({ modelName: spec.modelName, modelVersion: version, window, targetName: performance.targetName });
    const all: Record<string, number | null> = metrics ? { ...metrics.classification, ...metrics.regression } : {};
    const value = all[performance.metric] ?? null;
    const labelled = metrics?.labelled ?? 0;
    let baselineValue: number | undefined;
    try {
      const registered = await this.sources.registeredMetrics(spec.modelName, version);
      const candidate = registered[performance.metric] ?? (performance.metric === 'roc_auc' ? registered.auc : undefined);
      if (typeof candidate === 'number' && Number.isFinite(candidate)) baselineValue = candidate;
    } catch {
      // The baseline is informative only; an unreachable registry does not stop the evaluation.
    }
    const base = {
      metric: performance.metric,
      value,
      threshold: performance.threshold,
      higherIsBetter: higherIsBetter(performance.metric),
      ...(baselineValue === undefined ? {} : { baselineValue }),
      labelled,
      predictions: metrics?.predictions ?? sampleSize,
      minLabelled: performance.minLabelled,
      metrics: all,
    };
    if (labelled < performance.minLabelled) return { ...base, verdict: 'not_judged', reason: `${labelled} labelled predictions, fewer than minLabelled (${performance.minLabelled})` };
    if (value === null) return { ...base, verdict: 'not_judged', reason: `${performance.metric} cannot be computed from these predictions and labels` };
    return { ...base, verdict: breaches(value, performance.threshold, base.higherIsBetter) ? 'breached' : 'healthy' };
  }

  private async slo(spec: MonitorSpec, version: number, window: WindowRef): Promise<SloOutcome> {
    const slo = spec.slo!;
    const checks: SloOutcome['checks'][number][] = [];
    if (slo.latencyP99Ms !== undefined) {
      const [row] = await this.sources.store.query<{ p99: unknown; n: number }>(
        `SELECT quantileExact(0.99)(latency_ms) AS p99, count() AS n FROM (${windowRowsSql(this.sources.store.tables, { modelName: spec.modelName, modelVersion: version, window }, 'latency_ms')})`,
      );
      const value = row && Number(row.n) > 0 ? finiteOrNull(row.p99) : null;
      checks.push({ metric: 'latency_p99_ms', value, threshold: slo.latencyP99Ms, breached: value !== null && breaches(value, slo.latencyP99Ms, false) });
    }
    if (slo.errorRate !== undefined) {
      // Serving logs the predictions it made; failed requests never reach the log, so the error
      // rate is not measurable here (serving's own /metrics counts them).
      checks.push({ metric: 'error_rate', value: null, threshold: slo.errorRate, breached: false, note: 'not measurable from the prediction log: failed requests are not logged' });
    }
    const judged = checks.filter((check) => check.value !== null);
    return { verdict: judged.length === 0 ? 'not_judged' : judged.some((check) => check.breached) ? 'breached' : 'healthy', checks };
  }
}

function col(feature: ReferenceFeature): string {
  return `\`${feature.name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/** Milliseconds of a monitor's label delay (0 without a performance check). */
export function labelDelayMs(spec: MonitorSpec): number {
  return spec.performance ? (parseDuration(spec.performance.labelDelay) ?? 0) : 0;
}

