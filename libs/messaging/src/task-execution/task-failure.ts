import { isLooplineError, isRetryable, type LooplineErrorCode } from '@loopline/errors';

/** Why a task failed, as TaskFailed.error carries it. */
export interface TaskErrorInfo {
  /** UPPER_SNAKE_CASE cause, e.g. `SOURCE_NOT_FOUND`, `INVALID_REQUEST`, `TIMEOUT`. */
  readonly code: string;
  readonly message: string;
  /** Whether running the task again may succeed. */
  readonly retryable: boolean;
  readonly logsUri?: string;
}

/**
 * Thrown by a task handler to fail the task with a code of its own (e.g. `SOURCE_NOT_FOUND`);
 * any other error is classified by `classifyTaskError`.
 */
export class TaskFailure extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly logsUri: string;

  constructor(code: string, message: string, options: { readonly retryable: boolean; readonly logsUri?: string; readonly cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TaskFailure';
    this.code = code;
    this.retryable = options.retryable;
    this.logsUri = options.logsUri ?? '';
  }
}

const codeOfLooplineError: Readonly<Record<LooplineErrorCode, string>> = {
  VALIDATION: 'INVALID_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  ILLEGAL_STATE: 'ILLEGAL_STATE',
  CONCURRENCY: 'CONCURRENT_CHANGE',
  UNAVAILABLE: 'UNAVAILABLE',
  DATA_LOSS: 'DATA_LOSS',
};

/**
 * The TaskFailed error of whatever a handler threw: a `TaskFailure` as it says; a Loopline error
 * by its code (validation, not found and illegal state fail the same way again, so they are not
 * retryable; unavailable and concurrency are); anything else is unexpected (a bug, a lost
 * connection) and reported retryable as `EXECUTOR_ERROR`, so that orchestration's retry policy
 * decides.
 */
export function classifyTaskError(error: unknown): TaskErrorInfo {
  if (error instanceof TaskFailure) return { code: error.code, message: error.message, retryable: error.retryable, logsUri: error.logsUri };
  if (isLooplineError(error)) return { code: codeOfLooplineError[error.code], message: error.message, retryable: isRetryable(error.code) };
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'EXECUTOR_ERROR', message: message || 'the executor failed without a message', retryable: true };
}

/** The most log text a result carries (TaskCompleted.logs_tail, TaskError.logs_tail). */
export const maxLogsTailBytes = 64 * 1024;

/** Keeps the last `maxBytes` of UTF-8 log text (whole lines when it can). */
export class LogsTail {
  private lines: string[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes = maxLogsTailBytes) {}

  append(line: string): void {
    const text = line.endsWith('\n') ? line : `${line}\n`;
    this.lines.push(text);
    this.bytes += Buffer.byteLength(text);
    while (this.bytes > this.maxBytes && this.lines.length > 1) this.bytes -= Buffer.byteLength(this.lines.shift()!);
    if (this.bytes > this.maxBytes) {
      // One line longer than the whole budget: keep its end.
      const only = Buffer.from(this.lines[0]!);
      this.lines = [only.subarray(only.length - this.maxBytes).toString('utf8').replace(/^\uFFFD+/, '')];
      this.bytes = Buffer.byteLength(this.lines[0]!);
    }
  }

  toString(): string {
    return this.lines.join('');
  }
}
