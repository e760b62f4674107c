// The deploy step's verdict on a canary: the challenger's live, labelled metric against the
// champion's over the same period (monitoring `GET /v1/models/{name}/performance`). Pure: the
// executor fetches, this decides, so the rule is tested on numbers alone.

/** Metrics where a smaller value is the better model. */
const lowerIsBetter = new Set(['log_loss', 'rmse', 'mae']);
export const comparableMetrics = ['accuracy', 'roc_auc', 'log_loss', 'precision', 'recall', 'f1', 'rmse', 'mae'] as const;

/** One version's live traffic as monitoring reports it. */
export interface LiveVersion {
  readonly version: number;
  readonly trafficRole?: string;
  readonly predictions: number;
  readonly labelled: number;
  readonly metrics: Readonly<Record<string, number | null | undefined>>;
}

export interface CanaryRules {
  readonly metric: string;
  /** How much worse than the champion the challenger may be and still be promoted (≥ 0). */
  readonly maxRegression: number;
  /** Labelled predictions each side needs before the numbers count. */
  readonly minLabelled: number;
}

export interface SideEvidence {
  readonly version: number;
  readonly predictions: number;
  readonly labelled: number;
  readonly value: number | null;
}

export type CanaryVerdict =
  | { readonly decision: 'wait'; readonly why: string; readonly champion: SideEvidence; readonly challenger: SideEvidence }
  | {
      readonly decision: 'promote' | 'rollback';
      readonly why: string;
      readonly champion: SideEvidence;
      readonly challenger: SideEvidence;
      /** Champion minus challenger, signed so that positive means the challenger is worse. */
      readonly regression: number;
    };

/** Sums a version's rows (one per traffic role) and keeps the metric of its most-labelled row. */
export function sideOf(rows: readonly LiveVersion[], version: number, metric: string): SideEvidence {
  const mine = rows.filter((row) => row.version === version);
  const best = [...mine].sort((a, b) => b.labelled - a.labelled)[0];
  const value = best?.metrics[metric];
  return {
    version,
    predictions: mine.reduce((sum, row) => sum + row.predictions, 0),
    labelled: mine.reduce((sum, row) => sum + row.labelled, 0),
    value: typeof value === 'number' && Number.isFinite(value) ? value : null,
  };
}

const format = (value: number) => value.toFixed(4);

/**
 * `wait` until both sides have `minLabelled` labelled predictions with a value of the metric;
 * then `promote` when the challenger is no more than `maxRegression` worse, else `rollback`.
 */
export function judgeCanary(rows: readonly LiveVersion[], championVersion: number, challengerVersion: number, rules: CanaryRules): CanaryVerdict {
  const champion = sideOf(rows, championVersion, rules.metric);
  const challenger = sideOf(rows, challengerVersion, rules.metric);
  for (const [name, side] of [['champion', champion], ['challenger', challenger]] as const) {
    if (side.labelled < rules.minLabelled || side.value === null) {
      return { decision: 'wait', why: `${name} v${side.version} has ${side.labelled} of ${rules.minLabelled} labelled predictions${side.value === null && side.labelled >= rules.minLabelled ? ` but no ${rules.metric}` : ''}`, champion, challenger };
    }
  }
  const championValue = champion.value!;
  const challengerValue = challenger.value!;
  const regression = lowerIsBetter.has(rules.metric) ? challengerValue - championValue : championValue - challengerValue;
  const comparison = `live ${rules.metric}: challenger v${challenger.version} ${format(challengerValue)} (${challenger.labelled} labelled) vs champion v${champion.version} ${format(championValue)} (${champion.labelled} labelled)`;
  // A tiny epsilon keeps equal metrics computed in different orders from counting as a regression.
  if (regression <= rules.maxRegression + 1e-12) {
    return { decision: 'promote', why: `${comparison}: regression ${format(regression)} ≤ allowed ${format(rules.maxRegression)}`, champion, challenger, regression };
  }
  return { decision: 'rollback', why: `${comparison}: regression ${format(regression)} > allowed ${format(rules.maxRegression)}`, champion, challenger, regression };
}
