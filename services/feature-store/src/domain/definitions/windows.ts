// Which source rows feed the windowed aggregations of a dataset version.
//
// A view version's dataset versions arrive one after another: increments (a stream micro-batched
// into versions, disjoint rows) or overlapping snapshots (a file rewritten with the latest weeks and
// ingested again). The windows of version V cover V's rows and the rows of the versions
// materialized into the same view version before V ("materialization order"), so a row at the
// start of a micro-batch still sees the rows of the previous one. A source row present in several
// versions counts once — with the largest multiplicity it has in any one version (max, not sum:
// snapshots repeat rows, increments do not). The order is recorded with the rows, so
// rematerializing V reads the same earlier versions and gives the same rows.
import type { FeatureViewDefinition } from './definitions';

/** Seconds of the longest window of the view, 0 when it has no windowed aggregation. */
export function longestWindowSeconds(definition: Pick<FeatureViewDefinition, 'features'>): number {
  return definition.features.reduce((longest, feature) => Math.max(longest, feature.aggregation?.windowSeconds ?? 0), 0);
}

export function hasWindows(definition: Pick<FeatureViewDefinition, 'features'>): boolean {
  return longestWindowSeconds(definition) > 0;
}

/** A dataset version whose source rows a view version keeps for the windows of later versions. */
export interface RecordedVersion {
  readonly datasetVersionId: string;
  /** Its place in the view version's materialization order (1, 2, …; kept when rematerialized). */
  readonly sequence: number;
  /** Smallest and largest event time of its rows (epoch ms); null when it has none. */
  readonly eventTimeRange: { readonly startMs: number; readonly endMs: number } | null;
}

export interface WindowInputs {
  /** The sequence of the version being materialized: its recorded one, or the next. */
  readonly sequence: number;
  /** Earlier versions whose rows can fall in a window of this one, in materialization order. */
  readonly earlier: readonly RecordedVersion[];
  /** Event times of earlier rows that can feed a window: `[startMs, endMs)`; null when none can. */
  readonly readRange: { readonly startMs: number; readonly endMs: number } | null;
}

/**
 * Decides the windows' inputs of `datasetVersionId` from what the view version recorded: a version
 * keeps its place when rematerialized, a new one comes last. A window at t covers `[t − w, t)`, so
 * only earlier rows with event time in `[first − longest, last)` of this version's rows can count.
 */
export function windowInputs(
  recorded: readonly RecordedVersion[],
  datasetVersionId: string,
  rows: { readonly startMs: number; readonly endMs: number } | null,
  longestWindowMs: number,
): WindowInputs {
  const own = recorded.find((version) => version.datasetVersionId === datasetVersionId);
  const sequence = own?.sequence ?? recorded.reduce((highest, version) => Math.max(highest, version.sequence), 0) + 1;
  if (rows === null || longestWindowMs <= 0) return { sequence, earlier: [], readRange: null };
  const readRange = { startMs: rows.startMs - longestWindowMs, endMs: rows.endMs };
  const earlier = recorded
    .filter((version) => version.sequence < sequence && version.datasetVersionId !== datasetVersionId)
    .filter(({ eventTimeRange: range }) => range !== null && range.startMs < readRange.endMs && range.endMs >= readRange.startMs)
    .sort((a, b) => a.sequence - b.sequence || (a.datasetVersionId < b.datasetVersionId ? -1 : a.datasetVersionId > b.datasetVersionId ? 1 : 0));
  return { sequence, earlier, readRange: earlier.length === 0 ? null : readRange };
}
