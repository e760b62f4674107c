import { drainingResult, runReadinessChecks, type ReadinessCheck, type ReadinessReport } from './readiness';

export interface ReadinessMonitorOptions {
  /** Bound on each check. */
  readonly timeoutMs: number;
  /** How often checks run in the background, so `Watch` subscribers learn about changes. */
  readonly intervalMs: number;
}

export type ReadinessListener = (report: ReadinessReport) => void;

/**
 * Holds the readiness of the process. Evaluations are coalesced (concurrent probes share one run,
 * so a burst of health requests never becomes a burst of database queries); listeners hear
 * about every change of the ready flag, and about the start of draining. Once `drain()` is called the report is not ready for good.
 */
export class ReadinessMonitor {
  private readonly checks: ReadinessCheck[];
  private readonly listeners = new Set<ReadinessListener>();
  private inFlight: Promise<ReadinessReport> | undefined;
  private latest: ReadinessReport | undefined;
  private timer: NodeJS.Timeout | undefined;
  private draining = false;

  constructor(checks: readonly ReadinessCheck[], private readonly options: ReadinessMonitorOptions) {
    this.checks = [...checks];
  }

  /** Services add their own conditions (e.g. "projections caught up") at module init. */
  addCheck(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  get current(): ReadinessReport | undefined {
    return this.latest;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  evaluate(): Promise<ReadinessReport> {
    if (this.draining) return Promise.resolve(this.publish(this.drainingReport()));
    this.inFlight ??= runReadinessChecks(this.checks, { timeoutMs: this.options.timeoutMs })
      .then((report) => (this.draining ? this.drainingReport() : this.publish(report)))
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** Listens to changes of the ready flag; returns the unsubscribe function. */
  onChange(listener: ReadinessListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Background evaluation; the timer never keeps the process alive. */
  start(): void {
    if (this.timer || this.draining) return;
    void this.evaluate();
    this.timer = setInterval(() => void this.evaluate(), this.options.intervalMs);
    this.timer.unref();
  }

  /**
   * First step of shutdown: report not ready from now on and stop probing. Every listener hears
   * about it, even when the service was already not ready, so streams can end.
   */
  drain(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draining = true;
    this.publish(this.drainingReport(), true);
  }

  private drainingReport(): ReadinessReport {
    return { ready: false, checks: [...(this.latest?.checks.filter((check) => check.name !== drainingResult.name) ?? []), drainingResult] };
  }

  private publish(report: ReadinessReport, notifyAlways = false): ReadinessReport {
    const changed = notifyAlways || this.latest === undefined || this.latest.ready !== report.ready;
    this.latest = report;
    if (changed) for (const listener of this.listeners) listener(report);
    return report;
  }
}
