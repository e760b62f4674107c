// The demo's live view: redrawn in place on a terminal, a plain progress line every few seconds
// otherwise (CI logs, pipes), so both stay readable.

export interface LiveState {
  simulatedTime: Date;
  predictionsPerSecond: number;
  predictions: number;
  labels: number;
  failedPredictions: number;
  champion: number | null;
  challenger: number | null;
  canaryPercent: number | null;
  championLive: { labelled: number; accuracy: number | null; rocAuc: number | null } | null;
  datasetVersions: number;
  alerts: readonly { kind: string; monitorName: string; modelVersion: number; detectedAt: string; status: string }[];
  runs: readonly { runId: string; status: string; reason: string; step: string }[];
  lastEvent: string;
}

const number = (value: number | null | undefined, digits = 3) => (value === null || value === undefined ? '—' : value.toFixed(digits));
const day = (date: Date) => date.toISOString().slice(0, 16).replace('T', ' ');

export class LiveView {
  private drawnLines = 0;
  private lastPlain = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly plainEveryMs = 5_000,
  ) {}

  get interactive(): boolean {
    return this.out.isTTY === true;
  }

  /** Prints a line above the live view (events worth keeping in the scroll-back). */
  note(line: string): void {
    this.clear();
    this.out.write(`${line}\n`);
  }

  render(state: LiveState, force = false): void {
    if (!this.interactive) {
      const now = Date.now();
      if (!force && now - this.lastPlain < this.plainEveryMs) return;
      this.lastPlain = now;
      const live = state.championLive;
      this.out.write(
        `[demo] ${day(state.simulatedTime)}  ${state.predictions} predictions (${number(state.predictionsPerSecond, 0)}/s), ${state.labels} labels  champion v${state.champion ?? '—'}` +
          ` live accuracy ${number(live?.accuracy)} auc ${number(live?.rocAuc)} (${live?.labelled ?? 0} labelled)` +
          `${state.challenger !== null ? `  challenger v${state.challenger} at ${state.canaryPercent ?? 0}%` : ''}  data versions ${state.datasetVersions}  alerts ${state.alerts.length}  runs ${state.runs.filter((run) => run.status === 'running' || run.status === 'queued').length} active\n`,
      );
      return;
    }
    const width = Math.max(60, Math.min(this.out.columns ?? 100, 120));
    const bar = '─'.repeat(width);
    const lines = [
      bar,
      ` simulated time  ${day(state.simulatedTime)} UTC      predictions ${state.predictions} (${number(state.predictionsPerSecond, 0)}/s)   labels ${state.labels}${state.failedPredictions > 0 ? `   failed ${state.failedPredictions}` : ''}`,
      ` champion        v${state.champion ?? '—'}   live accuracy ${number(state.championLive?.accuracy)}   AUC ${number(state.championLive?.rocAuc)}   (${state.championLive?.labelled ?? 0} labelled)`,
      ` challenger      ${state.challenger === null ? '—' : `v${state.challenger}, ${state.canaryPercent ?? 0}% of traffic`}      dataset versions ${state.datasetVersions}`,
      ' alerts',
      ...(state.alerts.length === 0 ? ['   none yet'] : state.alerts.slice(0, 4).map((alert) => `   ${alert.detectedAt.slice(11, 19)}  ${alert.kind.padEnd(11)} ${alert.monitorName} on v${alert.modelVersion} (${alert.status})`)),
      ' pipeline runs',
      ...(state.runs.length === 0 ? ['   none yet'] : state.runs.slice(0, 4).map((run) => `   ${run.runId.slice(0, 12)}  ${run.status.padEnd(9)} ${run.step.padEnd(16)} ${run.reason}`.slice(0, width))),
      ` ${state.lastEvent}`.slice(0, width),
      bar,
    ];
    this.clear();
    this.out.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  /** Removes the drawn view (before a note, or at the end). */
  clear(): void {
    if (this.interactive && this.drawnLines > 0) this.out.write(`\x1b[${this.drawnLines}A\x1b[J`);
    this.drawnLines = 0;
  }
}
