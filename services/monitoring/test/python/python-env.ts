// The Python side of the drift tests and benchmark: a virtual environment of its own (nothing
// global changes: Evidently 0.7.23 needs pandas 2 while other parts of the repository pin pandas 3),
// under the Loopline cache folder (LOOPLINE_CACHE_DIR, default ~/.cache/loopline), named after the
// hash of requirements.txt so that a changed pin gets a fresh environment. CI prepares it ahead
// (`.ci/run` runs this file); otherwise the first test run installs it (a minute or two).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir } from '@loopline/infra';

export const requirementsFile = join(__dirname, 'requirements.txt');
export const driftReferenceScript = join(__dirname, 'drift_reference.py');

export interface RunOutput {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
  });
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/** The environment's python, installing the environment first when it is missing or stale. */
export async function ensureDriftPythonEnv(log: (line: string) => void = () => undefined): Promise<string> {
  const wanted = createHash('sha256').update(readFileSync(requirementsFile)).digest('hex');
  const venv = join(defaultCacheDir(), `monitoring-drift-venv-${wanted.slice(0, 12)}`);
  const python = join(venv, 'bin', 'python');
  const marker = join(venv, '.requirements.sha256');
  if (existsSync(python) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === wanted) return python;
  if (!existsSync(python)) {
    log(`creating the Python environment ${venv}`);
    const created = await run('python3', ['-m', 'venv', venv]);
    if (created.status !== 0) throw new Error(`python3 -m venv ${venv} failed: ${lastLines(created.stderr || created.stdout, 10)}`);
  }
  log('installing services/monitoring/test/python/requirements.txt into it (first time: a minute or two)');
  const installed = await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', '-r', requirementsFile]);
  if (installed.status !== 0) throw new Error(`pip install -r services/monitoring/test/python/requirements.txt failed:\n${lastLines(installed.stderr || installed.stdout, 15)}`);
  writeFileSync(marker, `${wanted}\n`);
  return python;
}

/** Runs drift_reference.py on an input document and returns its parsed output. */
export async function runDriftReference<T>(python: string, inputFile: string): Promise<T> {
  const result = await run(python, [driftReferenceScript, inputFile], { ...process.env, PYTHONWARNINGS: 'ignore' });
  if (result.status !== 0) throw new Error(`drift_reference.py failed:\n${lastLines(result.stderr || result.stdout, 20)}`);
  return JSON.parse(lastLines(result.stdout, 1)) as T;
}

if (require.main === module) {
  ensureDriftPythonEnv((line) => console.log(`drift python: ${line}`)).then(
    (python) => console.log(`drift python: ready (${python})`),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
