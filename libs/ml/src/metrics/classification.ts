/**
 * Metrics of a binary classifier from labels (0/1) and scores (probability of class 1).
 * Definitions follow scikit-learn: `roc_auc_score` (ties share rank), `log_loss` (probabilities
 * clipped to [1e-15, 1 − 1e-15]), and precision/recall/F1 of `score >= threshold`, 0 when undefined.
 */
export interface BinaryClassificationMetrics {
  readonly auc: number;
  readonly log_loss: number;
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Share of positives among the rows. */
  readonly positive_rate: number;
}

export function binaryClassificationMetrics(labels: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): BinaryClassificationMetrics {
  checkLengths(labels, scores);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i += 1) {
    const predicted = scores[i]! >= threshold;
    const actual = labels[i] === 1;
    if (predicted && actual) tp += 1;
    else if (predicted) fp += 1;
    else if (actual) fn += 1;
    else tn += 1;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  return {
    auc: rocAuc(labels, scores),
    log_loss: logLoss(labels, scores),
    accuracy: labels.length === 0 ? 0 : (tp + tn) / labels.length,
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    positive_rate: labels.length === 0 ? 0 : (tp + fn) / labels.length,
  };
}

/** Area under the ROC curve by the Mann–Whitney statistic, ties counted as half; NaN with one class only. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  checkLengths(labels, scores);
  const n = labels.length;
  const order = sortedByScore(scores);
  let positives = 0;
  for (let i = 0; i < n; i += 1) if (labels[i] === 1) positives += 1;
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  // Sum of the (average) ranks of the positives, ascending score order.
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]!] === scores[order[start]!]) end += 1;
    const averageRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k += 1) if (labels[order[k]!] === 1) rankSum += averageRank;
    start = end;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export function logLoss(labels: ArrayLike<number>, scores: ArrayLike<number>, epsilon = 1e-15): number {
  checkLengths(labels, scores);
  let total = 0;
  for (let i = 0; i < labels.length; i += 1) {
    const p = Math.min(1 - epsilon, Math.max(epsilon, scores[i]!));
    total -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return labels.length === 0 ? Number.NaN : total / labels.length;
}

export interface RocPoint {
  readonly threshold: number;
  readonly fpr: number;
  readonly tpr: number;
}

export interface PrPoint {
  readonly threshold: number;
  readonly precision: number;
  readonly recall: number;
}

/**
 * ROC and precision–recall curves: one point per distinct score (descending), thinned evenly to
 * at most `maxPoints` (first and last kept), as scikit-learn's `roc_curve` /
 * `precision_recall_curve` give them before thinning. The ROC curve starts at (0, 0) with
 * threshold +Infinity (written as `null` in JSON by callers that need to).
 */
export function curves(labels: ArrayLike<number>, scores: ArrayLike<number>, maxPoints = 200): { readonly roc: RocPoint[]; readonly pr: PrPoint[] } {
  checkLengths(labels, scores);
  const n = labels.length;
  const order = sortedByScore(scores).reverse();
  let positives = 0;
  for (let i = 0; i < n; i += 1) if (labels[i] === 1) positives += 1;
  const negatives = n - positives;
  const roc: RocPoint[] = [{ threshold: Number.POSITIVE_INFINITY, fpr: 0, tpr: 0 }];
  const pr: PrPoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < n; ) {
    const score = scores[order[k]!]!;
    while (k < n && scores[order[k]!] === score) {
      if (labels[order[k]!] === 1) tp += 1;
      else fp += 1;
      k += 1;
    }
    roc.push({ threshold: score, fpr: negatives === 0 ? 0 : fp / negatives, tpr: positives === 0 ? 0 : tp / positives });
    pr.push({ threshold: score, precision: tp / (tp + fp), recall: positives === 0 ? 0 : tp / positives });
  }
  return { roc: thin(roc, maxPoints), pr: thin(pr, maxPoints) };
}

function thin<T>(points: T[], maxPoints: number): T[] {
  if (points.length <= maxPoints) return points;
  const out: T[] = [];
  for (let i = 0; i < maxPoints; i += 1) out.push(points[Math.round((i * (points.length - 1)) / (maxPoints - 1))]!);
  return out;
}

function sortedByScore(scores: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(scores.length);
  for (let i = 0; i < order.length; i += 1) order[i] = i;
  // Ties by index, so the order (and so the curves) never depends on the sort's stability.
  return order.sort((a, b) => scores[a]! - scores[b]! || a - b);
}

function checkLengths(labels: ArrayLike<number>, scores: ArrayLike<number>): void {
  if (labels.length !== scores.length) throw new RangeError(`${labels.length} labels but ${scores.length} scores`);
}
