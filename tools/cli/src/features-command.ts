// `loopline features plan|apply|get`: definitions files and online reads through the feature
// store's REST API (LOOPLINE_FEATURE_STORE_URL, default http://127.0.0.1:7002).
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

export const featuresUsage = `usage: loopline features <plan|apply> <file.yaml> [--url <feature store URL>]
       loopline features get --features <view:feature,...> | --service <name>
                             --entity <key=value[,value…]> [--entity …] [--url <URL>]

  plan    show what applying the definitions file would change (nothing is applied)
  apply   apply the definitions file: every changed definition becomes a new version
  get     read features online (statuses as Feast's feature server: PRESENT, NULL_VALUE,
          NOT_FOUND, OUTSIDE_TTL)

The feature store's URL comes from --url, LOOPLINE_FEATURE_STORE_URL, or http://127.0.0.1:7002.`;

interface PlanChange {
  kind: string;
  name: string;
  action: 'create' | 'update' | 'unchanged';
  fromVersion: number;
  toVersion: number;
  differences: string[];
}

interface ErrorBody {
  error?: string;
  details?: { problems?: { text: string }[] };
}

async function call(url: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(`${url.replace(/\/$/, '')}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', 'x-loopline-actor': `user:${process.env.USER ?? 'cli'}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(`the feature store does not answer at ${url} (${error instanceof Error ? error.message : String(error)}): is it running (\`loopline up\`)?`);
  }
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as unknown) };
}

function printError(body: unknown): void {
  const error = body as ErrorBody;
  const problems = error.details?.problems;
  if (problems && problems.length > 0) for (const problem of problems) console.error(problem.text);
  else console.error(`loopline features: ${error.error ?? JSON.stringify(body)}`);
}

function printPlan(changes: PlanChange[], applied: boolean): void {
  const symbol = { create: '+', update: '~', unchanged: '=' } as const;
  for (const change of changes) {
    const versions = change.action === 'create' ? `v${change.toVersion}` : change.action === 'update' ? `v${change.fromVersion} → v${change.toVersion}` : `v${change.fromVersion}`;
    console.log(`${symbol[change.action]} ${change.kind.replace('_', ' ')} ${change.name} (${versions})`);
    for (const difference of change.differences) console.log(`    ${difference}`);
  }
  const count = (action: PlanChange['action']) => changes.filter((change) => change.action === action).length;
  const summary = `${count('create')} to create, ${count('update')} to update, ${count('unchanged')} unchanged`;
  console.log(applied ? `applied: ${summary}` : `plan: ${summary}${count('create') + count('update') > 0 ? ' (run `loopline features apply` to apply)' : ''}`);
}

/** Runs `loopline features …`; returns the exit code. Problems are printed as one line, not a stack. */
export async function runFeaturesCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    return await features(argv, env);
  } catch (error) {
    console.error(`loopline features: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function features(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      features: { type: 'string' },
      service: { type: 'string' },
      entity: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [action, file] = positionals;
  if (values.help || !action) {
    console.log(featuresUsage);
    return values.help ? 0 : 2;
  }
  const url = values.url ?? env.LOOPLINE_FEATURE_STORE_URL ?? 'http://127.0.0.1:7002';
  switch (action) {
    case 'plan':
    case 'apply': {
      if (!file) {
        console.error(`loopline features ${action}: give the definitions file\n\n${featuresUsage}`);
        return 2;
      }
      const text = await readFile(file, 'utf8');
      const response = await call(url, `/v1/definitions/${action}`, { file: text, fileName: basename(file) });
      if (response.status !== 200) {
        printError(response.body);
        return 1;
      }
      printPlan((response.body as { changes: PlanChange[] }).changes, action === 'apply');
      return 0;
    }
    case 'get': {
      const entities: Record<string, string[]> = {};
      for (const entry of values.entity ?? []) {
        const separator = entry.indexOf('=');
        if (separator <= 0) {
          console.error(`--entity "${entry}": expected key=value[,value…]`);
          return 2;
        }
        entities[entry.slice(0, separator)] = entry.slice(separator + 1).split(',');
      }
      if ((!values.features && !values.service) || Object.keys(entities).length === 0) {
        console.error(`loopline features get: give --features or --service, and --entity\n\n${featuresUsage}`);
        return 2;
      }
      const response = await call(url, '/v1/online-features', {
        ...(values.service ? { featureService: values.service } : { features: values.features!.split(',') }),
        entities,
      });
      if (response.status !== 200) {
        printError(response.body);
        return 1;
      }
      const body = response.body as { metadata: { featureNames: string[] }; results: { values: unknown[]; statuses: string[]; eventTimestamps: (string | null)[] }[] };
      const rows = Object.values(entities)[0]!.length;
      for (let row = 0; row < rows; row += 1) {
        console.log(Object.entries(entities).map(([key, list]) => `${key}=${list[row]}`).join(' '));
        const width = Math.max(...body.metadata.featureNames.map((name) => name.length));
        body.metadata.featureNames.forEach((name, index) => {
          const result = body.results[index]!;
          console.log(`  ${name.padEnd(width)}  ${String(JSON.stringify(result.values[row])).padEnd(20)}  ${result.statuses[row]!.padEnd(11)}  ${result.eventTimestamps[row] ?? ''}`.trimEnd());
        });
      }
      return 0;
    }
    default:
      console.error(`unknown features command "${action}"\n\n${featuresUsage}`);
      return 2;
  }
}
