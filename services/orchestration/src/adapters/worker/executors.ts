// The step kinds orchestration's own worker executes: `command` in a child process, and the
// model lifecycle steps through the registry's and serving's REST APIs (evaluate, register,
// promote through the gate, deploy canary → full). Each is idempotent on the task's
// idempotency key: REST calls are PUTs or carry the key, so a re-execution changes nothing twice.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ExecutionOutcome } from '../kafka/contract-messages';
import type { StepKindName } from '../../domain/pipeline/step-kinds';
import { parseDuration } from '../../domain/pipeline/durations';
import type { Json } from '../../domain/run/pipeline-run';
import { runCommand } from './command-executor';

export interface TaskExecution {
  readonly runId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly idempotencyKey: string;
  readonly pipelineName: string;
  readonly kind: StepKindName;
  readonly params: Json;
  /** The step's timeout; 0 = none. */
  readonly timeoutMs: number;
  /** Aborted when the run stops waiting (cancelled, replaced, failed) or the worker stops. */
  readonly signal: AbortSignal;
}

export interface PlatformEndpoints {
  readonly registryUrl: string;
  readonly servingUrl: string;
}

export type Executor = (execution: TaskExecution) => Promise<ExecutionOutcome>;

/** A failure with its code and whether a retry can help. */
class StepError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

interface HttpAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

async function call(url: string, init: RequestInit & { signal: AbortSignal }, log: (line: string) => void): Promise<HttpAnswer> {
  log(`${init.method ?? 'GET'} ${url}`);
  let response: Response;
  try {
    response = await fetch(url, { ...init, signal: AbortSignal.any([init.signal, AbortSignal.timeout(60_000)]) });
  } catch (error) {
    throw new StepError('UNREACHABLE', `${url}: ${error instanceof Error ? error.message : String(error)}`, true);
  }
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { error: text.slice(0, 500) };
  }
  log(`→ ${response.status}`);
  return { status: response.status, body };
}

function expectOk(answer: HttpAnswer, what: string): Record<string, unknown> {
  if (answer.status >= 200 && answer.status < 300) return answer.body;
  const message = `${what}: HTTP ${answer.status} ${typeof answer.body.error === 'string' ? answer.body.error : JSON.stringify(answer.body).slice(0, 300)}`;
  // 5xx, 429 and 409 concurrency conflicts may pass; other 4xx will fail the same way again.
  const retryable = answer.status >= 500 || answer.status === 429 || (answer.status === 409 && answer.body.code === 'CONCURRENCY');
  throw new StepError(answer.status === 404 ? 'NOT_FOUND' : retryable ? 'UNAVAILABLE' : 'REJECTED', message, retryable);
}

const json = (body: unknown) => ({ headers: { 'content-type': 'application/json', 'x-loopline-actor': 'service:orchestration' }, body: JSON.stringify(body) });
const text = (value: Json[string] | undefined, fallback: string) => (typeof value === 'string' && value !== '' ? value : fallback);
const integer = (value: Json[string] | undefined, name: string): number => {
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number)) throw new StepError('INVALID_INPUT', `input "${name}" must be an integer`, false);
  return number;
};

function modelPath(endpoints: PlatformEndpoints, name: string, version?: number): string {
  return `${endpoints.registryUrl}/v1/models/${encodeURIComponent(name)}${version === undefined ? '' : `/versions/${version}`}`;
}

async function evaluate(execution: TaskExecution, endpoints: PlatformEndpoints, log: (line: string) => void): Promise<Json> {
  const name = text(execution.params.modelName, '');
  const version = integer(execution.params.version, 'version');
  const alias = text(execution.params.alias, 'champion');
  const evidence = expectOk(await call(`${modelPath(endpoints, name, version)}/evaluate`, { method: 'POST', ...json({ alias }), signal: execution.signal }, log), 'evaluate');
  log(`gate ${evidence.passed ? 'passes' : 'refuses'} ${name}:${version} for ${alias}`);
  return { passed: evidence.passed === true, evidence: evidence as Json, modelVersion: `${name}:${version}` };
}

async function register(execution: TaskExecution, endpoints: PlatformEndpoints, log: (line: string) => void): Promise<Json> {
  const name = text(execution.params.modelName, '');
  if (execution.params.version !== undefined && execution.params.version !== null) {
    const version = integer(execution.params.version, 'version');
    const found = expectOk(await call(modelPath(endpoints, name, version), { method: 'GET', signal: execution.signal }, log), 'register (confirm)');
    const artifact = (found.artifact ?? {}) as { sha256?: string };
    return { modelName: name, version, modelVersion: `${name}:${version}`, sha256: artifact.sha256 ?? '' };
  }
  const path = execution.params.artifactPath;
  if (typeof path !== 'string' || path === '') throw new StepError('INVALID_INPUT', 'register needs "version" (an existing version) or "artifactPath" (an ONNX file to upload)', false);
  const bytes = await readFile(path.replace(/^file:\/\//, '')).catch((error: unknown) => {
    throw new StepError('ARTIFACT_UNREADABLE', `${path}: ${error instanceof Error ? error.message : String(error)}`, false);
  });
  const lineage = { ...((execution.params.lineage ?? {}) as Json), pipelineRunId: execution.runId };
  const metadata = {
    description: text(execution.params.description, `registered by pipeline ${execution.pipelineName}, run ${execution.runId}`),
    metrics: execution.params.metrics ?? {},
    params: execution.params.params ?? {},
    lineage,
  };
  const form = new FormData();
  form.append('metadata', JSON.stringify(metadata));
  form.append('artifact', new Blob([bytes], { type: 'application/octet-stream' }), basename(path));
  // The task's idempotency key makes a re-executed registration return the version it made.
  const answer = await call(`${modelPath(endpoints, name)}/versions`, { method: 'POST', body: form, headers: { 'idempotency-key': execution.idempotencyKey, 'x-loopline-actor': 'service:orchestration' }, signal: execution.signal }, log);
  const version = expectOk(answer, 'register');
  const number = Number(version.version);
  return { modelName: name, version: number, modelVersion: `${name}:${number}`, sha256: String(((version.artifact ?? {}) as { sha256?: string }).sha256 ?? '') };
}

async function promote(execution: TaskExecution, endpoints: PlatformEndpoints, log: (line: string) => void): Promise<Json> {
  const name = text(execution.params.modelName, '');
  const version = integer(execution.params.version, 'version');
  const alias = text(execution.params.alias, 'champion');
  const reason = text(execution.params.reason, `pipeline ${execution.pipelineName} run ${execution.runId}`);
  const answer = await call(`${modelPath(endpoints, name, version)}/promote`, { method: 'POST', ...json({ alias, reason }), signal: execution.signal }, log);
  if (answer.status === 409 && (answer.body.details as { evidence?: unknown } | undefined)?.evidence !== undefined) {
    const evidence = (answer.body.details as { evidence: Json }).evidence;
    log(`gate refused ${name}:${version} for ${alias}: ${String(answer.body.error ?? '')}`);
    if (execution.params.failIfRefused === true) throw new StepError('GATE_REFUSED', String(answer.body.error ?? 'refused by the promotion gate'), false);
    return { promoted: false, alias, previousVersion: 0, evidence, modelVersion: `${name}:${version}` };
  }
  const body = expectOk(answer, 'promote');
  log(`${alias} → ${name}:${version}`);
  return { promoted: true, alias, previousVersion: Number(body.previousVersion ?? 0), evidence: (body.evidence ?? {}) as Json, modelVersion: `${name}:${version}` };
}

async function deploy(execution: TaskExecution, endpoints: PlatformEndpoints, log: (line: string) => void): Promise<Json> {
  const name = text(execution.params.modelName, '');
  const version = integer(execution.params.version, 'version');
  const canaryPercent = execution.params.canaryPercent === undefined || execution.params.canaryPercent === null ? 10 : integer(execution.params.canaryPercent, 'canaryPercent');
  if (canaryPercent < 0 || canaryPercent > 100) throw new StepError('INVALID_INPUT', 'canaryPercent is 0-100', false);
  const duration = parseDuration(execution.params.canaryDuration ?? '0s');
  if ('error' in duration) throw new StepError('INVALID_INPUT', `canaryDuration: ${duration.error}`, false);
  const canaryAlias = text(execution.params.canaryAlias, 'challenger');
  const alias = text(execution.params.alias, 'champion');
  const reason = `deploy by pipeline ${execution.pipelineName} run ${execution.runId}`;
  const traffic = `${endpoints.servingUrl}/v1/traffic/${encodeURIComponent(name)}`;
  if (canaryPercent > 0) {
    expectOk(await call(`${modelPath(endpoints, name)}/aliases/${encodeURIComponent(canaryAlias)}`, { method: 'PUT', ...json({ version, reason }), signal: execution.signal }, log), 'deploy (canary alias)');
    expectOk(await call(traffic, { method: 'PUT', ...json({ canaryPercent, shadow: false }), signal: execution.signal }, log), 'deploy (canary traffic)');
    log(`canary: ${canaryPercent}% of ${name} to version ${version} for ${duration.ms} ms`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, duration.ms);
      execution.signal.addEventListener('abort', () => (clearTimeout(timer), reject(new StepError('CANCELLED', 'cancelled during the canary', false))), { once: true });
    });
  }
  expectOk(await call(`${modelPath(endpoints, name)}/aliases/${encodeURIComponent(alias)}`, { method: 'PUT', ...json({ version, reason }), signal: execution.signal }, log), 'deploy (full)');
  if (canaryPercent > 0) expectOk(await call(traffic, { method: 'PUT', ...json({ canaryPercent: 0, shadow: false }), signal: execution.signal }, log), 'deploy (end of canary)');
  log(`${alias} → ${name}:${version}: all traffic`);
  return { deployed: true, modelVersion: `${name}:${version}` };
}

/** The executor of each kind orchestration's worker owns. */
export function orchestrationExecutors(endpoints: PlatformEndpoints): Partial<Record<StepKindName, Executor>> {
  const viaRest =
    (work: (execution: TaskExecution, endpoints: PlatformEndpoints, log: (line: string) => void) => Promise<Json>): Executor =>
    async (execution) => {
      const startedAt = new Date().toISOString();
      const lines: string[] = [];
      const log = (line: string) => lines.push(`${new Date().toISOString()} ${line}`);
      try {
        const outputs = await work(execution, endpoints, log);
        return { status: 'completed', outputs, logs: lines.join('\n'), startedAt, endedAt: new Date().toISOString() };
      } catch (error) {
        const stepError = error instanceof StepError ? error : new StepError('INTERNAL', error instanceof Error ? error.message : String(error), true);
        log(`failed: ${stepError.code} ${stepError.message}`);
        return { status: 'failed', error: { code: stepError.code, message: stepError.message, retryable: stepError.retryable }, logs: lines.join('\n'), startedAt, endedAt: new Date().toISOString() };
      }
    };
  return { command: runCommand, evaluate: viaRest(evaluate), register: viaRest(register), promote: viaRest(promote), deploy: viaRest(deploy) };
}
