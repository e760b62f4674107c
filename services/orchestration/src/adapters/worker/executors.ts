// The step kinds orchestration's own worker executes: `command` in a child process, and the
// model lifecycle steps through the registry's, serving's and monitoring's REST APIs (evaluate,
// register, promote through the gate, deploy: canary, live comparison with the champion, then
// promote or roll back). Each is idempotent on the task's idempotency key: REST calls are PUTs or
// carry the key, so a re-execution changes nothing twice.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { ExecutionOutcome } from '../kafka/contract-messages';
import type { StepKindName } from '../../domain/pipeline/step-kinds';
import { parseDuration } from '../../domain/pipeline/durations';
import type { Json } from '../../domain/run/pipeline-run';
import { runCommand } from './command-executor';
import { comparableMetrics, judgeCanary, type CanaryVerdict, type LiveVersion } from './canary-comparison';

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
  /** Live, labelled traffic per model version: the deploy step's canary comparison. */
  readonly monitoringUrl: string;
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

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(new StepError('CANCELLED', 'cancelled during the canary', false));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(new StepError('CANCELLED', 'cancelled during the canary', false))), { once: true });
  });

function durationInput(value: Json[string] | undefined, name: string, fallback: string): number {
  const duration = parseDuration(value ?? fallback);
  if ('error' in duration) throw new StepError('INVALID_INPUT', `${name}: ${duration.error}`, false);
  return duration.ms;
}

function numberInput(value: Json[string] | undefined, name: string, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) throw new StepError('INVALID_INPUT', `input "${name}" must be a non-negative number`, false);
  return number;
}

/** The version an alias points at now, or null when it points nowhere. */
async function aliasVersion(endpoints: PlatformEndpoints, name: string, alias: string, signal: AbortSignal, log: (line: string) => void): Promise<number | null> {
  const answer = await call(`${modelPath(endpoints, name)}/aliases/${encodeURIComponent(alias)}`, { method: 'GET', signal }, log);
  if (answer.status === 404) return null;
  return Number(expectOk(answer, `read alias ${alias}`).version);
}

/**
 * Canary, then a verdict. Without `compareMetric`: the canary share for `canaryDuration`, then all
 * traffic. With it: the challenger takes `canaryPercent` of the traffic until both it and the
 * champion have `minLabelled` labelled predictions since the canary began and `canaryDuration`
 * has passed (at most `canaryTimeout`); monitoring's live metric of each decides — promoted to the
 * champion alias when the challenger is at most `maxRegression` worse, rolled back otherwise (and
 * when the timeout passes without enough labels). The alias moves carry the comparison in their
 * reason; the outputs carry it whole (`evidence`), so lineage answers why a version serves.
 */
async function deploy(execution: TaskExecution, endpoints: PlatformEndpoints, log: (line: string) => void): Promise<Json> {
  const name = text(execution.params.modelName, '');
  const version = integer(execution.params.version, 'version');
  const canaryPercent = execution.params.canaryPercent === undefined || execution.params.canaryPercent === null ? 10 : integer(execution.params.canaryPercent, 'canaryPercent');
  if (canaryPercent < 0 || canaryPercent > 100) throw new StepError('INVALID_INPUT', 'canaryPercent is 0-100', false);
  const durationMs = durationInput(execution.params.canaryDuration, 'canaryDuration', '0s');
  const canaryAlias = text(execution.params.canaryAlias, 'challenger');
  const alias = text(execution.params.alias, 'champion');
  const compareMetric = text(execution.params.compareMetric, '');
  if (compareMetric !== '' && !(comparableMetrics as readonly string[]).includes(compareMetric)) {
    throw new StepError('INVALID_INPUT', `compareMetric "${compareMetric}" is not one of ${comparableMetrics.join(', ')}`, false);
  }
  const maxRegression = numberInput(execution.params.maxRegression, 'maxRegression', 0);
  const minLabelled = numberInput(execution.params.minLabelled, 'minLabelled', 200);
  const timeoutMs = durationInput(execution.params.canaryTimeout, 'canaryTimeout', '30m');
  const pollMs = Math.max(100, durationInput(execution.params.pollInterval, 'pollInterval', '5s'));
  const targetName = text(execution.params.targetName, '');
  const why = text(execution.params.reason, `pipeline ${execution.pipelineName} run ${execution.runId}`);
  const reason = `deploy by pipeline ${execution.pipelineName} run ${execution.runId} (${why})`;
  const traffic = `${endpoints.servingUrl}/v1/traffic/${encodeURIComponent(name)}`;
  const moveAlias = async (target: string, reasonText: string) =>
    expectOk(await call(`${modelPath(endpoints, name)}/aliases/${encodeURIComponent(target)}`, { method: 'PUT', ...json({ version, reason: reasonText }), signal: execution.signal }, log), `deploy (${target} alias)`);
  const setCanary = async (percent: number) =>
    expectOk(await call(traffic, { method: 'PUT', ...json({ canaryPercent: percent, shadow: false }), signal: execution.signal }, log), `deploy (canary ${percent}%)`);

  if (compareMetric === '') {
    if (canaryPercent > 0) {
      await moveAlias(canaryAlias, reason);
      await setCanary(canaryPercent);
      log(`canary: ${canaryPercent}% of ${name} to version ${version} for ${durationMs} ms`);
      await sleep(durationMs, execution.signal);
    }
    await moveAlias(alias, reason);
    if (canaryPercent > 0) await setCanary(0);
    log(`${alias} → ${name}:${version}: all traffic`);
    return { deployed: true, rolledBack: false, evidence: { decision: 'promote', why: 'no live comparison asked (no compareMetric)' }, modelVersion: `${name}:${version}` };
  }

  const championVersion = await aliasVersion(endpoints, name, alias, execution.signal, log);
  if (championVersion === null || championVersion === version) {
    const evidence = { decision: 'promote', why: championVersion === null ? `no ${alias} to compare with: the first version takes all traffic` : `version ${version} already holds ${alias}` };
    if (championVersion === null) await moveAlias(alias, `${reason}: ${evidence.why}`);
    // The promote step may have made it the challenger: a champion is nobody's challenger.
    if ((await aliasVersion(endpoints, name, canaryAlias, execution.signal, log)) === version) {
      expectOk(await call(`${modelPath(endpoints, name)}/aliases/${encodeURIComponent(canaryAlias)}`, { method: 'DELETE', ...json({ reason: `v${version} holds ${alias}` }), signal: execution.signal }, log), 'deploy (challenger alias)');
    }
    log(`${alias} → ${name}:${version}: ${evidence.why}`);
    return { deployed: true, rolledBack: false, evidence, modelVersion: `${name}:${version}` };
  }
  if (canaryPercent === 0) throw new StepError('INVALID_INPUT', 'a live comparison (compareMetric) needs canaryPercent > 0', false);

  await moveAlias(canaryAlias, reason);
  await setCanary(canaryPercent);
  const canaryStartedAt = new Date();
  log(`canary: ${canaryPercent}% of ${name} to version ${version} against ${alias} v${championVersion}; judging live ${compareMetric} after ${durationMs} ms and ${minLabelled} labelled predictions each (timeout ${timeoutMs} ms)`);
  const rules = { metric: compareMetric, maxRegression, minLabelled };
  const performanceUrl = `${endpoints.monitoringUrl}/v1/models/${encodeURIComponent(name)}/performance?from=${encodeURIComponent(canaryStartedAt.toISOString())}${targetName ? `&targetName=${encodeURIComponent(targetName)}` : ''}`;
  let verdict: CanaryVerdict = judgeCanary([], championVersion, version, rules);
  let lastWhy = '';
  for (;;) {
    const elapsed = Date.now() - canaryStartedAt.getTime();
    const answer = await call(performanceUrl, { method: 'GET', signal: execution.signal }, () => undefined);
    if (answer.status >= 200 && answer.status < 300) {
      verdict = judgeCanary(parseLiveVersions(answer.body), championVersion, version, rules);
      if (verdict.why !== lastWhy) log(`${verdict.decision === 'wait' ? 'waiting: ' : ''}${(lastWhy = verdict.why)}`);
    } else log(`monitoring answered HTTP ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
    if (verdict.decision !== 'wait' && elapsed >= durationMs) break;
    if (elapsed >= timeoutMs) break;
    await sleep(pollMs, execution.signal);
  }
  const decidedAt = new Date();
  const inconclusive = verdict.decision === 'wait';
  const promoteIt = verdict.decision === 'promote';
  const evidence = {
    decision: promoteIt ? 'promote' : 'rollback',
    why: inconclusive ? `canary timed out after ${timeoutMs} ms: ${verdict.why}` : verdict.why,
    metric: compareMetric,
    maxRegression,
    minLabelled,
    regression: 'regression' in verdict ? verdict.regression : null,
    champion: { ...verdict.champion },
    challenger: { ...verdict.challenger },
    canaryPercent,
    canaryStartedAt: canaryStartedAt.toISOString(),
    decidedAt: decidedAt.toISOString(),
  } satisfies Json;
  if (promoteIt) {
    await moveAlias(alias, `${reason}: ${evidence.why}`);
    await setCanary(0);
    expectOk(await call(`${modelPath(endpoints, name)}/aliases/${encodeURIComponent(canaryAlias)}`, { method: 'DELETE', ...json({ reason: `canary of v${version} ended: promoted to ${alias}` }), signal: execution.signal }, log), 'deploy (end of canary)');
    log(`${alias} → ${name}:${version}: promoted (${evidence.why})`);
    return { deployed: true, rolledBack: false, evidence, modelVersion: `${name}:${version}` };
  }
  await setCanary(0);
  const removed = await call(`${modelPath(endpoints, name)}/aliases/${encodeURIComponent(canaryAlias)}`, { method: 'DELETE', ...json({ reason: `${reason}: rolled back: ${evidence.why}` }), signal: execution.signal }, log);
  if (removed.status !== 404) expectOk(removed, 'deploy (roll back)');
  log(`${name}:${version} rolled back; ${alias} stays v${championVersion} (${evidence.why})`);
  return { deployed: false, rolledBack: true, evidence, modelVersion: `${name}:${version}` };
}

function parseLiveVersions(body: Record<string, unknown>): LiveVersion[] {
  const versions = Array.isArray(body.versions) ? (body.versions as Record<string, unknown>[]) : [];
  return versions.map((row) => ({
    version: Number(row.version),
    trafficRole: typeof row.trafficRole === 'string' ? row.trafficRole : undefined,
    predictions: Number(row.predictions ?? 0),
    labelled: Number(row.labelled ?? 0),
    metrics: (row.metrics ?? {}) as Record<string, number | null>,
  }));
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
