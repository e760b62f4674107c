// `loopline pipelines apply|validate|list|run|status|logs|cancel|lineage`: pipeline files and
// runs through orchestration's REST API (LOOPLINE_ORCHESTRATION_URL, default http://127.0.0.1:7003).
// `run --watch` and `status --watch` draw a live view of the run's steps, redrawn on every change
// (Server-Sent Events from /v1/runs/{id}/events).
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

export const pipelinesUsage = `usage: loopline pipelines <command> [options] [--url <orchestration URL>]

  apply <file.yaml>...             apply pipeline definitions (a new version when changed)
  validate <file.yaml>...          check definitions; every problem with its place
  list                             pipelines and their latest versions
  run <pipeline> [--param k=v]...  start a run (values are JSON when they parse, text otherwise)
      [--version N] [--watch]      --watch: live view of the steps until the run ends
  status [<run-id>] [--watch]      a run's steps; without an id, the latest runs
      [--pipeline <name>]
  logs <run-id> <task> [--attempt N]  a task's captured output
  cancel <run-id> [--reason text]
  lineage <artifact-id>            everything upstream and downstream (e.g. flight-delay:3)

The orchestration URL comes from --url, LOOPLINE_ORCHESTRATION_URL, or http://127.0.0.1:7003.`;

interface Attempt {
  attempt: number;
  status: string;
  durationMs: number | null;
  error: { code: string; message: string } | null;
}
interface Task {
  taskId: string;
  stepKind: string;
  status: string;
  cached: boolean;
  skipReason: string | null;
  retryAt: string | null;
  attempts: Attempt[];
  outputs: unknown;
}
interface Run {
  runId: string;
  pipelineName: string;
  pipelineVersion: number;
  status: string;
  trigger: { kind: string; actor: string; triggerName: string | null };
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  failedTaskId: string | null;
  error: { code: string; message: string } | null;
  cancelReason: string | null;
  outputs: unknown;
  revision: number;
  tasks: Task[];
}
interface ErrorBody {
  error?: string;
  details?: { problems?: { path: string; message: string }[] };
}

class Api {
  constructor(private readonly url: string) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json', 'x-loopline-actor': `user:${process.env.USER ?? 'cli'}` },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new Error(`orchestration does not answer at ${this.url} (${error instanceof Error ? error.message : String(error)}): is it running (\`loopline up\`)?`);
    }
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
  }

  /** Server-Sent Events of a run: calls `onRun` with every state until the stream ends. */
  async watch(runId: string, onRun: (run: Run) => void): Promise<void> {
    const response = await fetch(`${this.url}/v1/runs/${encodeURIComponent(runId)}/events`);
    if (!response.ok || !response.body) throw new Error(`cannot watch run ${runId}: HTTP ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = frame
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        if (data !== '') onRun(JSON.parse(data) as Run);
      }
    }
  }
}

function printError(body: unknown): void {
  const error = body as ErrorBody;
  const problems = error.details?.problems;
  if (problems && problems.length > 0) for (const problem of problems) console.error(`  ${problem.path || '(document)'}: ${problem.message}`);
  else console.error(`loopline pipelines: ${error.error ?? JSON.stringify(body)}`);
}

const color = process.stdout.isTTY ? (code: number, text: string) => `\x1b[${code}m${text}\x1b[0m` : (_code: number, text: string) => text;
const symbols: Record<string, string> = {
  pending: color(2, '·'),
  ready: color(36, '○'),
  running: color(36, '▶'),
  retry_wait: color(33, '↻'),
  succeeded: color(32, '✔'),
  failed: color(31, '✖'),
  skipped: color(2, '⤼'),
  cancelled: color(33, '■'),
};

function seconds(ms: number | null): string {
  return ms === null ? '' : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The lines of the run view: a header and one line per step. */
export function renderRun(run: Run, now = Date.now()): string[] {
  const elapsed = run.startedAt ? (run.endedAt ? Date.parse(run.endedAt) : now) - Date.parse(run.startedAt) : null;
  const trigger = run.trigger.kind === 'manual' ? `by ${run.trigger.actor}` : `${run.trigger.kind} ${run.trigger.triggerName ?? ''}`.trim();
  const lines = [`${run.pipelineName} v${run.pipelineVersion}  run ${run.runId}  ${run.status.toUpperCase()}  ${trigger}  ${seconds(elapsed)}`];
  const width = Math.max(...run.tasks.map((task) => task.taskId.length), 4);
  for (const task of run.tasks) {
    const last = task.attempts.at(-1);
    const running = last && last.status === 'running' && task.status === 'running';
    const detail = task.cached
      ? 'cached'
      : task.skipReason
        ? `skipped (${task.skipReason})`
        : task.status === 'retry_wait'
          ? `retry at ${task.retryAt?.slice(11, 19)} after ${last?.error?.code ?? 'failure'}`
          : last?.error && task.status === 'failed'
            ? `${last.error.code}: ${last.error.message.slice(0, 80)}`
            : running
              ? `attempt ${last.attempt}`
              : last?.durationMs !== undefined && last?.durationMs !== null
                ? `${seconds(last.durationMs)}${task.attempts.length > 1 ? ` (${task.attempts.length} attempts)` : ''}`
                : '';
    lines.push(`  ${symbols[task.status] ?? '?'} ${task.taskId.padEnd(width)}  ${task.stepKind.padEnd(18)}  ${task.status.padEnd(10)}  ${detail}`);
  }
  if (run.status === 'failed' && run.error) lines.push(color(31, `  failed at ${run.failedTaskId}: ${run.error.code} ${run.error.message}`));
  if (run.status === 'cancelled' && run.cancelReason) lines.push(color(33, `  cancelled: ${run.cancelReason}`));
  if (run.status === 'succeeded' && run.outputs && Object.keys(run.outputs).length > 0) lines.push(`  outputs: ${JSON.stringify(run.outputs)}`);
  return lines;
}

/** Redraws the run in place on a terminal; prints each change otherwise. */
async function watchRun(api: Api, runId: string): Promise<number> {
  let drawn = 0;
  let final: Run | undefined;
  await api.watch(runId, (run) => {
    const lines = renderRun(run);
    if (process.stdout.isTTY && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
    process.stdout.write(`${lines.join('\n')}\n`);
    drawn = process.stdout.isTTY ? lines.length : 0;
    final = run;
  });
  return final?.status === 'succeeded' ? 0 : 1;
}

/** `--param key=value`: the value as JSON when it parses (numbers, booleans, objects), as text otherwise. */
export function parseParams(entries: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const entry of entries) {
    const at = entry.indexOf('=');
    if (at <= 0) throw new Error(`--param ${entry}: expected name=value`);
    const value = entry.slice(at + 1);
    try {
      params[entry.slice(0, at)] = JSON.parse(value);
    } catch {
      params[entry.slice(0, at)] = value;
    }
  }
  return params;
}

/** Runs `loopline pipelines …`; returns the exit code. */
export async function runPipelinesCommand(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      param: { type: 'string', multiple: true, short: 'p' },
      version: { type: 'string' },
      watch: { type: 'boolean', short: 'w', default: false },
      pipeline: { type: 'string' },
      attempt: { type: 'string' },
      reason: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    console.log(pipelinesUsage);
    return values.help ? 0 : 2;
  }
  const api = new Api((values.url ?? env.LOOPLINE_ORCHESTRATION_URL ?? 'http://127.0.0.1:7003').replace(/\/$/, ''));
  switch (action) {
    case 'apply':
    case 'validate': {
      if (rest.length === 0) {
        console.error(`loopline pipelines ${action}: which file?\n\n${pipelinesUsage}`);
        return 2;
      }
      let failed = false;
      for (const file of rest) {
        const yaml = await readFile(file, 'utf8');
        const response = await api.call<{ valid?: boolean; problems?: { path: string; message: string }[]; pipeline?: { name: string; version: number }; changed?: boolean }>(
          'POST',
          action === 'apply' ? '/v1/pipelines' : '/v1/pipelines/validate',
          { yaml },
        );
        if (action === 'validate' && response.status === 200) {
          if (response.body.valid) console.log(`${file}: valid`);
          else {
            failed = true;
            console.error(`${file}: invalid`);
            for (const problem of response.body.problems ?? []) console.error(`  ${problem.path || '(document)'}: ${problem.message}`);
          }
        } else if (response.status === 200 || response.status === 201) {
          const { pipeline, changed } = response.body;
          console.log(`${file}: ${pipeline!.name} ${changed ? `applied as version ${pipeline!.version}` : `unchanged (version ${pipeline!.version})`}`);
        } else {
          failed = true;
          console.error(`${file}: refused`);
          printError(response.body);
        }
      }
      return failed ? 1 : 0;
    }
    case 'list': {
      const { body } = await api.call<{ pipelines: { name: string; version: number; steps: unknown[]; triggers: { name: string; kind: string }[]; appliedAt: string }[] }>('GET', '/v1/pipelines');
      for (const pipeline of body.pipelines) {
        const triggers = pipeline.triggers.map((trigger) => `${trigger.kind}:${trigger.name}`).join(', ') || 'manual only';
        console.log(`${pipeline.name.padEnd(30)} v${String(pipeline.version).padEnd(4)} ${String(pipeline.steps.length).padStart(3)} steps  ${triggers}`);
      }
      return 0;
    }
    case 'run': {
      const name = rest[0];
      if (!name) {
        console.error(`loopline pipelines run: which pipeline?\n\n${pipelinesUsage}`);
        return 2;
      }
      const response = await api.call<Run>('POST', `/v1/pipelines/${encodeURIComponent(name)}/runs`, {
        params: parseParams(values.param ?? []),
        ...(values.version ? { version: Number(values.version) } : {}),
      });
      if (response.status !== 201) {
        printError(response.body);
        return 1;
      }
      console.log(`started run ${response.body.runId}`);
      return values.watch ? watchRun(api, response.body.runId) : 0;
    }
    case 'status': {
      const runId = rest[0];
      if (runId) {
        if (values.watch) return watchRun(api, runId);
        const response = await api.call<Run>('GET', `/v1/runs/${encodeURIComponent(runId)}`);
        if (response.status !== 200) {
          printError(response.body);
          return 1;
        }
        console.log(renderRun(response.body).join('\n'));
        return 0;
      }
      const query = values.pipeline ? `?pipeline=${encodeURIComponent(values.pipeline)}&limit=20` : '?limit=20';
      const { body } = await api.call<{ runs: Run[] }>('GET', `/v1/runs${query}`);
      for (const run of body.runs) {
        const done = run.tasks.filter((task) => ['succeeded', 'skipped'].includes(task.status)).length;
        console.log(`${run.runId}  ${run.pipelineName.padEnd(24)} ${run.status.padEnd(10)} ${String(done).padStart(3)}/${run.tasks.length} steps  ${run.createdAt}  ${run.trigger.kind}`);
      }
      return 0;
    }
    case 'logs': {
      const [runId, taskId] = rest;
      if (!runId || !taskId) {
        console.error(`loopline pipelines logs: which run and task?\n\n${pipelinesUsage}`);
        return 2;
      }
      const response = await api.call<{ attempts: { attempt: number; logs: string; logsUri: string }[] }>(
        'GET',
        `/v1/runs/${encodeURIComponent(runId)}/tasks/${encodeURIComponent(taskId)}/logs${values.attempt ? `?attempt=${values.attempt}` : ''}`,
      );
      if (response.status !== 200) {
        printError(response.body);
        return 1;
      }
      for (const attempt of response.body.attempts) {
        if (response.body.attempts.length > 1 || values.attempt) console.log(color(2, `── attempt ${attempt.attempt}${attempt.logsUri ? ` (${attempt.logsUri})` : ''}`));
        process.stdout.write(attempt.logs.endsWith('\n') || attempt.logs === '' ? attempt.logs : `${attempt.logs}\n`);
      }
      return 0;
    }
    case 'cancel': {
      const runId = rest[0];
      if (!runId) return 2;
      const response = await api.call<Run>('POST', `/v1/runs/${encodeURIComponent(runId)}/cancel`, { reason: values.reason ?? 'cancelled from the CLI' });
      if (response.status !== 200) {
        printError(response.body);
        return 1;
      }
      console.log(renderRun(response.body).join('\n'));
      return 0;
    }
    case 'lineage': {
      const artifact = rest[0];
      if (!artifact) return 2;
      const response = await api.call<{ upstream: { artifactId: string; kind: string }[]; downstream: { artifactId: string; kind: string }[]; tasks: { runId: string; taskId: string; stepKind: string; codeVersion: string; pipelineName: string }[] }>(
        'GET',
        `/v1/lineage?artifact=${encodeURIComponent(artifact)}`,
      );
      if (response.status !== 200) {
        printError(response.body);
        return 1;
      }
      console.log('upstream:');
      for (const item of response.body.upstream) console.log(`  ${item.kind.padEnd(16)} ${item.artifactId}`);
      console.log('downstream:');
      for (const item of response.body.downstream) console.log(`  ${item.kind.padEnd(16)} ${item.artifactId}`);
      console.log('by:');
      for (const task of response.body.tasks) console.log(`  ${task.pipelineName}/${task.taskId} (${task.stepKind}) run ${task.runId}${task.codeVersion ? ` code ${task.codeVersion}` : ''}`);
      return 0;
    }
    default:
      console.error(`unknown pipelines command "${action}"\n\n${pipelinesUsage}`);
      return 2;
  }
}
