// The Loopline side of the serving benchmark: real Kafka and PostgreSQL (@loopline/infra) on free
// ports, the real registry and serving services as child processes, and the model registered and
// promoted through the registry's REST API exactly as a user would (serving learns of it only
// from the registry).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startInfrastructure, stopInfrastructure, type RunningInfrastructure } from '@loopline/infra';
import { freePort } from '@loopline/testing';
import { startProcess, type Started } from './processes';

const root = resolve(__dirname, '..', '..');
const actor = { 'x-loopline-actor': 'user:bench-serving' };

export interface ServingProcess {
  readonly process: Started;
  readonly url: string;
  readonly grpcAddress: string;
}

export interface LooplineStack {
  readonly infra: RunningInfrastructure;
  readonly registryUrl: string;
  readonly serving: ServingProcess;
  readonly kafkaPid: number;
  /** Starts one more serving instance with these further LOOPLINE_SERVING_* settings; resolves once the model is ready there. */
  startServing(settings: Record<string, string>): Promise<ServingProcess>;
  stop(): Promise<void>;
}

export interface LooplineOptions {
  readonly dataDir: string;
  /** The ONNX file, once made (the infrastructure starts meanwhile). */
  readonly onnxFile: Promise<string>;
  readonly modelName: string;
  /** Cores serving runs on (`taskset -c`). */
  readonly servingCores?: string;
  /** Extra node flags of the serving process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it. */
  readonly servingNodeArgs?: readonly string[];
  readonly log: (line: string) => void;
}

function serviceEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // Only what is given here: nothing of the caller's own LOOPLINE_* settings leaks in.
  return { ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('LOOPLINE_'))), LOOPLINE_HOST: '127.0.0.1', LOOPLINE_LOG_LEVEL: 'warn', ...extra };
}

async function waitFor(what: string, service: Started, probe: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (service.child.exitCode !== null) throw new Error(`${service.name} exited with ${service.child.exitCode} before ${what}:\n${service.tail()}`);
    try {
      if (await probe()) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${service.name}: no ${what} within ${timeoutMs / 1000} s; log: ${service.logFile}\n${service.tail()}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

async function expectOk(response: Response, what: string): Promise<unknown> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return text === '' ? undefined : JSON.parse(text);
}

async function register(registryUrl: string, name: string, onnxFile: string): Promise<number> {
  await expectOk(
    await fetch(`${registryUrl}/v1/models`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...actor },
      body: JSON.stringify({ name, description: 'bench/serving: 100-tree gradient-boosted classifier, 10 float features' }),
    }),
    'POST /v1/models',
  );
  const form = new FormData();
  form.append('metadata', JSON.stringify({ description: 'scikit-learn GradientBoostingClassifier exported by skl2onnx (zipmap off)', tags: { bench: 'serving' } }));
  form.append('artifact', new Blob([readFileSync(onnxFile)], { type: 'application/octet-stream' }), 'model.onnx');
  const version = (await expectOk(await fetch(`${registryUrl}/v1/models/${name}/versions`, { method: 'POST', body: form, headers: actor }), `POST /v1/models/${name}/versions`)) as { version: number };
  await expectOk(
    await fetch(`${registryUrl}/v1/models/${name}/aliases/champion`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...actor },
      body: JSON.stringify({ version: version.version, reason: 'bench/serving' }),
    }),
    `PUT /v1/models/${name}/aliases/champion`,
  );
  return version.version;
}

export async function startLoopline(options: LooplineOptions): Promise<LooplineStack> {
  const { dataDir, log } = options;
  const started: Started[] = [];
  let infra: RunningInfrastructure | undefined;
  const stop = async () => {
    for (const service of [...started].reverse()) await service.stop();
    if (infra) await stopInfrastructure(dataDir, (line) => log(`[infra] ${line}`));
  };
  try {
    const [kafkaPort, controllerPort, postgresPort] = [await freePort(), await freePort(), await freePort()];
    log(`Kafka on ${kafkaPort}, PostgreSQL on ${postgresPort} (data in ${dataDir})`);
    infra = await startInfrastructure({
      dataDir,
      kafka: { port: kafkaPort, controllerPort },
      postgres: { port: postgresPort },
      databases: ['registry', 'serving'],
      log: (line) => log(`[infra] ${line}`),
    });
    const running = infra;
    const servicesDir = join(dataDir, 'loopline');

    const registryPort = await freePort();
    const registryUrl = `http://127.0.0.1:${registryPort}`;
    const registry = startProcess({
      name: 'registry',
      command: process.execPath,
      args: ['-r', '@swc-node/register', join('services', 'registry', 'src', 'main.ts')],
      cwd: root,
      logFile: join(dataDir, 'registry.log'),
      env: serviceEnv({
        LOOPLINE_REGISTRY_HTTP_PORT: String(registryPort),
        LOOPLINE_REGISTRY_GRPC_PORT: String(await freePort()),
        LOOPLINE_POSTGRES_URL: running.postgresUrl('registry'),
        LOOPLINE_KAFKA_BROKERS: running.kafkaBrokers.join(','),
        LOOPLINE_DATA_DIR: servicesDir,
      }),
    });
    started.push(registry);
    log(`registry starting (pid ${registry.pid}, ${registryUrl})`);
    await waitFor('readiness', registry, async () => (await fetch(`${registryUrl}/health/ready`)).ok);

    const version = await register(registryUrl, options.modelName, await options.onnxFile);
    log(`registered ${options.modelName} version ${version} through the registry's REST API and made it champion`);

    let runs = 0;
    const startServing = async (settings: Record<string, string>): Promise<ServingProcess> => {
      const httpPort = await freePort();
      const grpcPort = await freePort();
      const url = `http://127.0.0.1:${httpPort}`;
      const since = Date.now();
      runs += 1;
      const serving = startProcess({
        name: 'serving',
        command: process.execPath,
        args: [...(options.servingNodeArgs ?? []), '-r', '@swc-node/register', join('services', 'serving', 'src', 'main.ts')],
        cwd: root,
        cores: options.servingCores,
        logFile: join(dataDir, `serving-${runs}.log`),
        env: serviceEnv({
          LOOPLINE_SERVING_HTTP_PORT: String(httpPort),
          LOOPLINE_SERVING_GRPC_PORT: String(grpcPort),
          LOOPLINE_POSTGRES_URL: running.postgresUrl('serving'),
          LOOPLINE_KAFKA_BROKERS: running.kafkaBrokers.join(','),
          LOOPLINE_DATA_DIR: join(servicesDir, `serving-${runs}`),
          LOOPLINE_REGISTRY_URL: registryUrl,
          ...settings,
        }),
      });
      started.push(serving);
      log(`serving starting (pid ${serving.pid}, ${url}, gRPC 127.0.0.1:${grpcPort}${options.servingCores ? `, core ${options.servingCores}` : ''}${Object.keys(settings).length ? `, ${Object.entries(settings).map(([key, value]) => `${key}=${value}`).join(' ')}` : ''})`);
      await waitFor(`model ${options.modelName} ready`, serving, async () => (await fetch(`${url}/v2/models/${options.modelName}/ready`)).ok);
      log(`serving ready after ${((Date.now() - since) / 1000).toFixed(0)} s`);
      return { process: serving, url, grpcAddress: `127.0.0.1:${grpcPort}` };
    };
    return {
      infra: running,
      registryUrl,
      serving: await startServing({}),
      kafkaPid: running.components.kafka.record.pid,
      startServing,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
