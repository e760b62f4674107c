// External trainers: commands declared in configuration (never taken from a request), run as
// child processes through the trainer contract (docs/adr/0007-training.md): the command gets the
// path of a JSON spec as its last argument and must write `model.onnx` and `metrics.json` into the
// spec's `outputDir`, then exit 0. Output is captured to a log; a trainer that runs past its
// timeout, or whose job is cancelled, is killed.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExternalTrainerInfo, ExternalTrainerResult, ExternalTrainers, ExternalTrainerSpec } from '../../application/ports';
import { lockfileSha256 } from '../environment/lockfile';

export interface ExternalTrainerConfig {
  readonly command: readonly string[];
  readonly cwd: string;
  readonly lockfile: string | null;
  readonly version: string | null;
  readonly timeoutMs: number;
  readonly env: Readonly<Record<string, string>>;
}

/** A trainer that did not honour the contract; `code` becomes the run's error code. */
export class TrainerError extends Error {
  constructor(
    readonly code: 'TRAINER_EXITED' | 'TRAINER_TIMEOUT' | 'TRAINER_OUTPUT_INVALID' | 'TRAINER_CANCELLED',
    message: string,
    readonly logPath: string,
  ) {
    super(message);
    this.name = 'TrainerError';
  }
}

const passedEnvironment = /^(PATH|HOME|LANG|LC_ALL|TMPDIR|VIRTUAL_ENV|PYTHON\w*|OMP_NUM_THREADS)$/;

export class ConfiguredExternalTrainers implements ExternalTrainers {
  private readonly infos: Map<string, ExternalTrainerInfo>;

  constructor(private readonly trainers: Readonly<Record<string, ExternalTrainerConfig>>) {
    this.infos = new Map(
      Object.entries(trainers).map(([name, config]) => {
        const lockfileHash = lockfileSha256(config.lockfile ?? undefined);
        return [name, { name, version: config.version ?? (lockfileHash === '' ? 'unversioned' : `lock-${lockfileHash.slice(0, 12)}`), lockfileSha256: lockfileHash }];
      }),
    );
  }

  list(): readonly ExternalTrainerInfo[] {
    return [...this.infos.values()];
  }

  get(name: string): ExternalTrainerInfo | undefined {
    return this.infos.get(name);
  }

  async run(name: string, spec: ExternalTrainerSpec, specPath: string, signal: AbortSignal): Promise<ExternalTrainerResult> {
    const config = this.trainers[name];
    if (!config) throw new Error(`no external trainer "${name}" is configured`);
    const logPath = join(spec.outputDir, '..', 'trainer.log');
    const log = createWriteStream(logPath, { flags: 'w' });
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined && passedEnvironment.test(key)) env[key] = value;
    Object.assign(env, config.env);
    const started = performance.now();
    const [program, ...args] = config.command;
    const child = spawn(program!, [...args, specPath], { cwd: config.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let lastLines = '';
    const keep = (chunk: Buffer) => {
      lastLines = (lastLines + chunk.toString('utf8')).slice(-2_000);
    };
    child.stdout.on('data', (chunk: Buffer) => log.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      log.write(chunk);
      keep(chunk);
    });
    let reason: 'timeout' | 'cancelled' | null = null;
    const timer = setTimeout(() => {
      reason = 'timeout';
      child.kill('SIGKILL');
    }, config.timeoutMs);
    const onAbort = () => {
      reason = 'cancelled';
      child.kill('SIGKILL');
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, error }));
      child.once('close', (code) => resolve({ code }));
    });
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    await new Promise<void>((resolve) => log.end(() => resolve()));
    const tail = lastLines.trim().split('\n').slice(-3).join(' | ');
    if (reason === 'timeout') throw new TrainerError('TRAINER_TIMEOUT', `external trainer "${name}" ran longer than ${config.timeoutMs} ms and was killed`, logPath);
    if (reason === 'cancelled') throw new TrainerError('TRAINER_CANCELLED', `external trainer "${name}" was cancelled`, logPath);
    if (exit.error) throw new TrainerError('TRAINER_EXITED', `external trainer "${name}" could not start: ${exit.error.message}`, logPath);
    if (exit.code !== 0) throw new TrainerError('TRAINER_EXITED', `external trainer "${name}" exited with code ${exit.code}${tail ? `: ${tail}` : ''}`, logPath);

    const modelPath = join(spec.outputDir, 'model.onnx');
    const model = await stat(modelPath).catch(() => undefined);
    if (!model?.isFile() || model.size === 0) throw new TrainerError('TRAINER_OUTPUT_INVALID', `external trainer "${name}" wrote no ${modelPath}`, logPath);
    let metrics: Record<string, number>;
    try {
      metrics = parseMetrics(JSON.parse(await readFile(join(spec.outputDir, 'metrics.json'), 'utf8')));
    } catch (error) {
      throw new TrainerError('TRAINER_OUTPUT_INVALID', `external trainer "${name}" wrote no valid metrics.json: ${error instanceof Error ? error.message : String(error)}`, logPath);
    }
    return { modelPath, metrics, logPath, durationMs: performance.now() - started };
  }
}

/** `metrics.json`: an object of metric name → number (or `{"metrics": {...}}`). */
export function parseMetrics(json: unknown): Record<string, number> {
  const object = json !== null && typeof json === 'object' && 'metrics' in json ? (json as { metrics: unknown }).metrics : json;
  if (object === null || typeof object !== 'object' || Array.isArray(object)) throw new Error('expected an object of metric name → number');
  const metrics: Record<string, number> = {};
  for (const [key, value] of Object.entries(object)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`metric "${key}" is not a finite number`);
    metrics[key] = value;
  }
  return metrics;
}
