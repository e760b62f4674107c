// The peers, started from the benchmark's Python environment with each one's default number of
// workers (what a user gets on this 2-core machine without tuning), on free loopback ports.
// Request/access logging is switched off for both, as Loopline runs at LOOPLINE_LOG_LEVEL=warn.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '@loopline/testing';
import type { PythonEnv } from './python-env';
import { startProcess, type Started } from './processes';

export interface PeerServer {
  readonly process: Started;
  readonly restUrl: string;
  readonly grpcAddress?: string;
  /** How many processes answer, as run. */
  readonly workers: string;
  readonly version: string;
}

async function waitFor(what: string, server: Started, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.name} exited (${server.child.exitCode ?? server.child.signalCode}) before ${what}; its last output:\n${server.tail()}`);
    }
    try {
      if (await probe()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${server.name}: not ${what} within ${timeoutMs / 1000} s; its last output:\n${server.tail()}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

function pythonEnv(env: PythonEnv, extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${env.bin}:${process.env.PATH ?? ''}`, VIRTUAL_ENV: env.venv, PYTHONWARNINGS: 'ignore', ...extra };
}

/**
 * `mlflow models serve -m <model> --env-manager local`: uvicorn running MLflow's FastAPI scoring
 * app; its default is one worker (`--workers`/MLFLOW_MODELS_WORKERS unset → `uvicorn --workers 1`,
 * mlflow/pyfunc/backend.py). Scoring at POST /invocations; no gRPC.
 */
export async function startMlflow(env: PythonEnv, modelDir: string, workDir: string, cores: string | undefined): Promise<PeerServer> {
  const port = await freePort();
  const server = startProcess({
    name: 'mlflow models serve',
    command: join(env.bin, 'mlflow'),
    args: ['models', 'serve', '-m', modelDir, '--env-manager', 'local', '-h', '127.0.0.1', '-p', String(port)],
    cwd: workDir,
    cores,
    logFile: join(workDir, 'mlflow.log'),
    // uvicorn reads its options from UVICORN_* variables: no access log line per request.
    env: pythonEnv(env, { UVICORN_ACCESS_LOG: 'false', MLFLOW_TRACKING_URI: `file://${join(workDir, 'mlruns')}` }),
  });
  const restUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor('answering /ping', server, async () => (await fetch(`${restUrl}/ping`)).ok, 120_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { process: server, restUrl, workers: '1 uvicorn worker (default)', version: packageVersion(env, 'mlflow') };
}

/**
 * `mlserver start <repository>`: one frontend process (FastAPI/uvicorn REST + grpcio) and, by
 * default, `parallel_workers: 1` inference worker process (mlserver/settings.py), plus
 * multiprocessing's resource tracker. OIP REST and gRPC.
 */
export async function startMlserver(env: PythonEnv, repository: string, workDir: string, model: string, cores: string | undefined): Promise<PeerServer> {
  const [httpPort, grpcPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const server = startProcess({
    name: 'mlserver start',
    command: join(env.bin, 'mlserver'),
    args: ['start', repository],
    cwd: workDir,
    cores,
    logFile: join(workDir, 'mlserver.log'),
    env: pythonEnv(env, {
      MLSERVER_HOST: '127.0.0.1',
      MLSERVER_HTTP_PORT: String(httpPort),
      MLSERVER_GRPC_PORT: String(grpcPort),
      MLSERVER_METRICS_PORT: String(metricsPort),
      // debug (default true) turns on an access log line per REST and gRPC request.
      MLSERVER_DEBUG: 'false',
    }),
  });
  const restUrl = `http://127.0.0.1:${httpPort}`;
  try {
    await waitFor(`model ${model} ready`, server, async () => (await fetch(`${restUrl}/v2/models/${model}/ready`)).ok, 180_000);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    process: server,
    restUrl,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    workers: '1 frontend + 1 inference worker process (parallel_workers=1, default)',
    version: packageVersion(env, 'mlserver'),
  };
}

function packageVersion(env: PythonEnv, name: string): string {
  const result = spawnSync(env.python, ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(name)}))`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : '?';
}
