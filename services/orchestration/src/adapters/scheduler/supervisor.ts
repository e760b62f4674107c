// The supervisor: a periodic loop (every `tickMs`) that ticks runs whose next wake-up is due
// (overdue results → DEADLINE_EXCEEDED, retries whose backoff ended), starts queued runs whose
// turn came, and fires cron schedules (croner, in each schedule's time zone).
//
// Several replicas may run it at once: ticks are decided against the stream version (a second
// tick decides nothing), and a schedule tick has a deterministic id (pipeline, trigger, fire
// time), so the trigger inbox and the derived run id make it fire once.
import { Cron } from 'croner';
import type { Logger } from '@loopline/telemetry';
import type { OrchestrationApplication } from '../../application/orchestration-application';

export interface SupervisorOptions {
  readonly tickMs: number;
  readonly scheduleGroup: string;
  readonly now?: () => Date;
}

/** The next time a schedule fires after `after`, or null when it never will. */
export function nextFireTime(cron: string, timezone: string, after: Date): Date | null {
  return new Cron(cron, { timezone, paused: true }).nextRun(after);
}

/** Why a cron expression or time zone is invalid, or undefined. */
export function checkSchedule(cron: string, timezone: string): string | undefined {
  try {
    // An unknown time zone only fails when a date is computed.
    new Cron(cron, { timezone, paused: true }).nextRun(new Date());
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return /time ?zone/i.test(message) ? `invalid time zone "${timezone}": ${message}` : `invalid cron expression "${cron}": ${message}`;
  }
}

export class Supervisor {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** Next fire time of each schedule, by `pipeline/trigger/version`. */
  private readonly nextFires = new Map<string, Date | null>();

  constructor(
    private readonly application: OrchestrationApplication,
    private readonly logger: Logger,
    private readonly options: SupervisorOptions,
  ) {}

  start(): void {
    this.schedule(this.options.tickMs);
  }

  /** Runs the loop soon (after a run ended, so a queued run starts without waiting a period). */
  wake(): void {
    if (this.stopped || this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.schedule(20);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.runOnce()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'supervisor pass failed; retrying at the next period'))
        .finally(() => {
          this.running = undefined;
          this.schedule(this.options.tickMs);
        });
    }, delay);
  }

  async runOnce(): Promise<void> {
    await this.application.tick();
    await this.fireSchedules();
  }

  private async fireSchedules(): Promise<void> {
    const now = this.options.now?.() ?? new Date();
    const seen = new Set<string>();
    for (const { pipeline, trigger } of await this.application.activeTriggers()) {
      if (trigger.kind !== 'schedule' || trigger.cron === null) continue;
      const key = `${pipeline.name}/${trigger.name}/${pipeline.version}`;
      seen.add(key);
      if (!this.nextFires.has(key)) {
        // No catch-up (Airflow 3's default): the first fire is the next one from now, or from the
        // version's application if that is later.
        const from = new Date(Math.max(now.getTime(), Date.parse(pipeline.appliedAt)));
        this.nextFires.set(key, nextFireTime(trigger.cron, trigger.timezone ?? 'UTC', from));
      }
      const due = this.nextFires.get(key);
      if (!due || due.getTime() > now.getTime()) continue;
      const eventId = `schedule:${pipeline.name}:${trigger.name}:${due.toISOString()}`;
      const outcome = await this.application.offerToTrigger(pipeline, trigger, { eventId, eventType: 'schedule', eventTime: due, payload: {} }, this.options.scheduleGroup);
      this.logger.info({ ...outcome, fireTime: due.toISOString() }, `schedule ${trigger.name} of ${pipeline.name}: ${outcome.decision}`);
      this.nextFires.set(key, nextFireTime(trigger.cron, trigger.timezone ?? 'UTC', due));
    }
    for (const key of this.nextFires.keys()) if (!seen.has(key)) this.nextFires.delete(key);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
