// The Python side of the serving benchmark: a virtual environment of its own under the OS temp
// folder (nothing global changes), installed from the pinned python/requirements.txt and reused
// while that file is unchanged; and prepare_models.py, which makes the model in its three forms.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const requirementsFile = join(__dirname, 'python', 'requirements.txt');
const prepareScript = join(__dirname, 'python', 'prepare_models.py');

export interface PythonEnv {
  readonly venv: string;
  readonly python: string;
  readonly bin: string;
  /** True when it was installed by this run (not reused). */
  readonly installed: boolean;
}

export interface PreparedModels {
  readonly folder: string;
  readonly onnx: string;
  readonly mlflowModel: string;
  readonly mlserverRepository: string;
  readonly expectedFile: string;
  readonly summary: Record<string, unknown>;
}

interface RunOutput {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

export async function ensurePythonEnv(log: (line: string) => void): Promise<PythonEnv> {
  const venv = process.env.LOOPLINE_BENCH_VENV ?? join(tmpdir(), 'loopline-bench-venv');
  const bin = join(venv, 'bin');
  const python = join(bin, 'python');
  const marker = join(venv, '.loopline-requirements.sha256');
  const wanted = createHash('sha256').update(readFileSync(requirementsFile)).digest('hex');
  if (existsSync(python) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === wanted) {
    log(`reusing the Python environment ${venv}`);
    return { venv, python, bin, installed: false };
  }
  if (!existsSync(python)) {
    log(`creating the Python environment ${venv}`);
    const created = await run('python3', ['-m', 'venv', venv]);
    if (created.status !== 0) throw new Error(`python3 -m venv ${venv} failed: ${lastLines(created.stderr || created.stdout, 10)}`);
  }
  log(`installing bench/serving/python/requirements.txt into it (first run: a few minutes)`);
  const installed = await run(join(bin, 'pip'), ['install', '--disable-pip-version-check', '-q', '-r', requirementsFile]);
  if (installed.status !== 0) throw new Error(`pip install -r bench/serving/python/requirements.txt failed:\n${lastLines(installed.stderr || installed.stdout, 15)}`);
  writeFileSync(marker, `${wanted}\n`);
  return { venv, python, bin, installed: true };
}

export async function prepareModels(env: PythonEnv, folder: string): Promise<PreparedModels> {
  const result = await run(env.python, [prepareScript, folder], { ...process.env, PATH: `${env.bin}:${process.env.PATH ?? ''}`, PYTHONWARNINGS: 'ignore' });
  if (result.status !== 0) throw new Error(`prepare_models.py failed:\n${lastLines(result.stderr || result.stdout, 15)}`);
  const summary = JSON.parse(lastLines(result.stdout, 1)) as Record<string, unknown>;
  return {
    folder,
    onnx: join(folder, 'model.onnx'),
    mlflowModel: join(folder, 'mlflow-model'),
    mlserverRepository: join(folder, 'mlserver'),
    expectedFile: join(folder, 'expected.json'),
    summary,
  };
}
