/**
 * Graceful shutdown as data: named steps run one after another, in order, within one deadline.
 * A failing step is recorded and the next one still runs (a broken Kafka client must not keep the
 * Postgres pool open); a step that hangs is abandoned when the deadline passes.
 */
export interface ShutdownStep {
  readonly name: string;
  run(): Promise<void> | void;
}

export interface ShutdownOutcome {
  /** Steps that finished without error, in the order they ran. */
  readonly completed: readonly string[];
  readonly failed: readonly { readonly step: string; readonly error: unknown }[];
  /** The step still running when the deadline passed, if it passed. */
  readonly timedOutIn?: string;
}

export interface ShutdownOptions {
  readonly timeoutMs: number;
  readonly onStepFailed?: (step: string, error: unknown) => void;
}

export async function runShutdown(steps: readonly ShutdownStep[], options: ShutdownOptions): Promise<ShutdownOutcome> {
  const completed: string[] = [];
  const failed: { step: string; error: unknown }[] = [];
  let current: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), options.timeoutMs);
  });
  const sequence = (async () => {
    for (const step of steps) {
      current = step.name;
      try {
        await step.run();
        completed.push(step.name);
      } catch (error) {
        failed.push({ step: step.name, error });
        options.onStepFailed?.(step.name, error);
      }
    }
    current = undefined;
    return 'done' as const;
  })();
  try {
    const result = await Promise.race([sequence, deadline]);
    if (result === 'timeout') return { completed: [...completed], failed: [...failed], timedOutIn: current };
    return { completed, failed };
  } finally {
    clearTimeout(timer);
  }
}

/** 0 only for a clean shutdown: every step done, in time. */
export function shutdownExitCode(outcome: ShutdownOutcome): 0 | 1 {
  return outcome.timedOutIn === undefined && outcome.failed.length === 0 ? 0 : 1;
}
