// Runs a `command` step in a child process: the program and arguments as resolved, a minimal
// environment (no secret of the worker leaks into it), the task's inputs as `$LOOPLINE_INPUTS`
// (JSON) and `$LOOPLINE_INPUT_<NAME>`, and `$LOOPLINE_OUTPUTS`, a file where it may write its
// outputs as a JSON object. stdout and stderr are captured together, in arrival order, as the
// task's logs (the last 1 MiB). On timeout or cancellation the child gets SIGTERM, then SIGKILL.
//
// The child stays in the worker's process group: if the worker is killed with its group (a
// container stop, a `kill -- -pgid`), its commands die with it and never complete an effect the
// retry will redo.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionOutcome } from '../kafka/contract-messages';
import type { Json } from '../../domain/run/pipeline-run';
import type { TaskExecution } from './executors';

const maxLogBytes = 1024 * 1024;
const killGraceMs = 3_000;
const passedThrough = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'NODE_OPTIONS'];

/** `trainingSetId` → `TRAINING_SET_ID`. */
export function envName(input: string): string {
  return input.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9_]/g, '_').toUpperCase();
}

class LogBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private dropped = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > maxLogBytes && this.chunks.length > 1) {
      const first = this.chunks.shift()!;
      this.size -= first.length;
      this.dropped += first.length;
    }
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.dropped > 0 ? `[… ${this.dropped} earlier bytes dropped]\n${text}` : text;
  }
}

export async function runCommand(execution: TaskExecution): Promise<ExecutionOutcome> {
  const startedAt = new Date().toISOString();
  const params = execution.params;
  const command = params.command;
  if (!Array.isArray(command) || command.length === 0 || !command.every((part) => typeof part === 'string')) {
    return failure(startedAt, 'INVALID_COMMAND', 'params.command must be a non-empty list of texts', false, '');
  }
  const inputs: Record<string, Json[string]> = {};
  for (const [name, value] of Object.entries(params)) if (name !== 'command' && name !== 'env') inputs[name] = value;
  const stepEnv = params.env !== null && typeof params.env === 'object' && !Array.isArray(params.env) ? (params.env as Json) : {};

  const workDir = join(tmpdir(), `loopline-task-${randomUUID()}`);
  await mkdir(workDir, { recursive: true });
  const outputsFile = join(workDir, 'outputs.json');
  const env: NodeJS.ProcessEnv = {};
  for (const name of passedThrough) if (process.env[name] !== undefined) env[name] = process.env[name];
  for (const [name, value] of Object.entries(inputs)) env[`LOOPLINE_INPUT_${envName(name)}`] = typeof value === 'string' ? value : JSON.stringify(value);
  for (const [name, value] of Object.entries(stepEnv)) env[name] = typeof value === 'string' ? value : JSON.stringify(value);
  Object.assign(env, {
    LOOPLINE_RUN_ID: execution.runId,
    LOOPLINE_TASK_ID: execution.taskId,
    LOOPLINE_ATTEMPT: String(execution.attempt),
    LOOPLINE_IDEMPOTENCY_KEY: execution.idempotencyKey,
    LOOPLINE_INPUTS: JSON.stringify(inputs),
    LOOPLINE_OUTPUTS: outputsFile,
    LOOPLINE_WORK_DIR: workDir,
  });

  const logs = new LogBuffer();
  try {
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error; timedOut: boolean; cancelled: boolean }>((resolve) => {
      const child = spawn(command[0] as string, (command as string[]).slice(1), { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let timedOut = false;
      let cancelled = false;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        child.kill('SIGTERM');
        killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs);
        killTimer.unref();
      };
      const timer = execution.timeoutMs > 0 ? setTimeout(() => ((timedOut = true), stop()), execution.timeoutMs) : undefined;
      const onAbort = () => ((cancelled = true), stop());
      execution.signal.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (chunk: Buffer) => logs.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => logs.push(chunk));
      let spawnError: Error | undefined;
      child.on('error', (error) => (spawnError = error));
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        execution.signal.removeEventListener('abort', onAbort);
        resolve({ code, signal, spawnError, timedOut, cancelled });
      });
    });
    const text = logs.text();
    if (result.spawnError) return failure(startedAt, 'COMMAND_NOT_STARTED', `${command[0]}: ${result.spawnError.message}`, false, text);
    if (result.cancelled) return failure(startedAt, 'CANCELLED', 'the run no longer waits for this task', false, text);
    if (result.timedOut) return failure(startedAt, 'COMMAND_TIMEOUT', `killed after its timeout of ${execution.timeoutMs} ms`, true, text);
    if (result.code !== 0) {
      const lastLine = text.trimEnd().split('\n').at(-1) ?? '';
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
      return failure(startedAt, 'COMMAND_FAILED', `${command[0]} ${how}${lastLine ? `: ${lastLine.slice(0, 300)}` : ''}`, true, text);
    }
    let outputs: Json = {};
    const written = await readFile(outputsFile, 'utf8').catch(() => undefined);
    if (written !== undefined && written.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(written);
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
        outputs = parsed as Json;
      } catch (error) {
        return failure(startedAt, 'OUTPUTS_INVALID', `$LOOPLINE_OUTPUTS must hold a JSON object: ${error instanceof Error ? error.message : String(error)}`, false, text);
      }
    }
    return { status: 'completed', outputs, logs: text, startedAt, endedAt: new Date().toISOString() };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function failure(startedAt: string, code: string, message: string, retryable: boolean, logs: string): ExecutionOutcome {
  return { status: 'failed', error: { code, message, retryable }, logs, startedAt, endedAt: new Date().toISOString() };
}
