// `loopline models ls|show|history|promote`: the model registry's REST API
// (LOOPLINE_REGISTRY_URL, default http://127.0.0.1:7005).
import { bytes, pairs, parseCommandArgs, parseTimeArgument, printJson, runReporting, short, table, time, type PlatformCommand } from './cli-output';
import {
  describeHistoryEvent,
  evidenceLines,
  policyWords,
  type GateEvidence,
  type HistoryEvent,
  type ModelJson,
  type ModelVersionJson,
  type TensorSpec,
} from './registry-views';
import { CliError, segment, ServiceClient, ServiceResponseError, UsageError } from './service-client';

export const modelsUsage = `usage: loopline models <command> [--json]

  ls                                   registered models, their latest version and aliases
  show <name>[:<version>|:<alias>]     a model and its versions, or one version: signature,
                                       metrics, params, aliases, lineage
  history <name> [--alias <alias>]     every event, oldest first: versions registered, aliases
                                       moved (actor, reason, gate evidence), gates evaluated,
                                       versions archived, policies set
  history <name> --at <time> [--alias champion]
                                       which version held the alias at that time
  promote <name> <version> [--alias champion] [--reason <text>]
                                       through the promotion gate; prints its evidence and
                                       exits 1 when the gate refuses
      [--dry-run]                      evaluate the gate only (nothing recorded or moved)
      [--force --reason <text>]        move the alias without the gate (an operator decision,
                                       recorded with your name and reason)

--json prints the registry's answer as JSON. Times are ISO-8601 (2026-11-28T10:00:00Z; without a
zone, UTC). The registry's URL comes from LOOPLINE_REGISTRY_URL, or http://127.0.0.1:7005.`;

const options = {
  json: { type: 'boolean', default: false },
  alias: { type: 'string' },
  at: { type: 'string' },
  reason: { type: 'string' },
  force: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `name`, `name:3` or `name:champion`. */
export function parseModelReference(reference: string): { name: string; version?: number; alias?: string } {
  const at = reference.lastIndexOf(':');
  if (at < 0) return { name: reference };
  const name = reference.slice(0, at);
  const selector = reference.slice(at + 1);
  if (name === '' || selector === '') throw new UsageError(`"${reference}": expected <name>, <name>:<version> or <name>:<alias>`);
  return /^\d+$/.test(selector) ? { name, version: Number(selector) } : { name, alias: selector };
}

function parseVersion(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${what}: expected a version number (1, 2, …), got ${value === undefined ? 'nothing' : `"${value}"`}`);
  return Number(value);
}

export const runModelsCommand: PlatformCommand = (argv, env = process.env) =>
  runReporting('models', modelsUsage, async () => {
    const { values, positionals } = parseCommandArgs(argv, options);
    const [action, ...rest] = positionals;
    if (values.help || !action) {
      console.log(modelsUsage);
      return values.help ? 0 : 2;
    }
    const registry = ServiceClient.of('registry', env);
    switch (action) {
      case 'ls':
      case 'list':
        return list(registry, values.json);
      case 'show':
        if (rest.length !== 1) throw new UsageError('show: give one model, e.g. flight-delay or flight-delay:3');
        return show(registry, parseModelReference(rest[0]!), values.json);
      case 'history':
        if (rest.length !== 1) throw new UsageError('history: give one model name');
        if (values.at !== undefined) return aliasAt(registry, rest[0]!, values.alias ?? 'champion', parseTimeArgument(values.at, '--at'), values.json);
        return history(registry, rest[0]!, values.alias, values.json);
      case 'promote': {
        const target = rest.length === 1 && rest[0]!.includes(':') ? parseModelReference(rest[0]!) : { name: rest[0], version: parseVersion(rest[1], 'promote <name> <version>') };
        if (!target.name || target.version === undefined || rest.length > 2) throw new UsageError('promote: give the model and the version, e.g. promote flight-delay 3');
        if (values.force && values['dry-run']) throw new UsageError('--force and --dry-run exclude each other');
        if (values.force && !values.reason?.trim()) throw new UsageError('--force moves the alias without the gate: say why with --reason');
        const alias = values.alias ?? 'champion';
        if (values['dry-run']) return evaluate(registry, target.name, target.version, alias, values.json);
        if (values.force) return force(registry, target.name, target.version, alias, values.reason!.trim(), values.json);
        return promote(registry, target.name, target.version, alias, values.reason ?? '', values.json);
      }
      default:
        throw new UsageError(`unknown models command "${action}"`);
    }
  });

async function list(registry: ServiceClient, json: boolean): Promise<number> {
  const { models } = await registry.get<{ models: ModelJson[] }>('/v1/models');
  if (json) {
    printJson({ models });
    return 0;
  }
  if (models.length === 0) {
    console.log('no registered models');
    return 0;
  }
  const rows = [...models]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((model) => [
      model.name,
      model.latestVersion > 0 ? `v${model.latestVersion}` : '-',
      Object.entries(model.aliases)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([alias, version]) => `${alias}=v${version}`)
        .join(' ') || '-',
      model.owner || '-',
      time(model.createdAt),
    ]);
  for (const line of table(['NAME', 'LATEST', 'ALIASES', 'OWNER', 'CREATED'], rows)) console.log(line);
  return 0;
}

async function resolveVersion(registry: ServiceClient, reference: { name: string; version?: number; alias?: string }): Promise<number | undefined> {
  if (reference.version !== undefined) return reference.version;
  if (reference.alias === undefined) return undefined;
  const { version } = await registry.get<{ version: number }>(`/v1/models/${segment(reference.name)}/aliases/${segment(reference.alias)}`);
  return version;
}

async function show(registry: ServiceClient, reference: { name: string; version?: number; alias?: string }, json: boolean): Promise<number> {
  const version = await resolveVersion(registry, reference);
  if (version !== undefined) {
    const found = await registry.get<ModelVersionJson>(`/v1/models/${segment(reference.name)}/versions/${version}`);
    if (json) printJson(found);
    else for (const line of versionLines(found)) console.log(line);
    return 0;
  }
  const [model, { versions }] = await Promise.all([
    registry.get<ModelJson>(`/v1/models/${segment(reference.name)}`),
    registry.get<{ versions: ModelVersionJson[] }>(`/v1/models/${segment(reference.name)}/versions`),
  ]);
  if (json) {
    printJson({ ...model, versions });
    return 0;
  }
  console.log(`${model.name}${model.description ? ` — ${model.description}` : ''}`);
  console.log(`  owner        ${model.owner || '-'}`);
  console.log(`  created      ${time(model.createdAt)}${model.createdBy ? ` by ${model.createdBy}` : ''}`);
  console.log(`  aliases      ${Object.entries(model.aliases).map(([alias, holder]) => `${alias}=v${holder}`).join(' ') || '-'}`);
  console.log(`  policy       ${model.promotionPolicy ? policyWords(model.promotionPolicy) : 'none (promotions are refused until one is set)'}`);
  if (Object.keys(model.tags).length > 0) console.log(`  tags         ${pairs(model.tags)}`);
  console.log('');
  const rows = versions.map((entry) => [
    `v${entry.version}`,
    entry.status,
    entry.aliases.join(',') || '-',
    pairs(entry.metrics, 4) || '-',
    entry.lineage.trainingRunId ? short(entry.lineage.trainingRunId, 36) : '-',
    time(entry.registeredAt),
  ]);
  for (const line of table(['VERSION', 'STATUS', 'ALIASES', 'METRICS', 'TRAINING RUN', 'REGISTERED'], rows)) console.log(line);
  return 0;
}

function tensor(spec: TensorSpec): string {
  return `${spec.name} ${spec.datatype}[${spec.shape.map((dimension) => (dimension < 0 ? '?' : String(dimension))).join(',')}]`;
}

const orAbsent = (value: string) => (value === '' ? '(absent)' : value);

export function versionLines(version: ModelVersionJson): string[] {
  const lineage = version.lineage;
  const lines = [
    `${version.name}:${version.version}  ${version.status}${version.aliases.length > 0 ? `  aliases: ${version.aliases.join(', ')}` : ''}`,
    `  registered   ${time(version.registeredAt)} by ${version.registeredBy}`,
    `  artifact     sha256 ${version.artifact.sha256}  ${bytes(version.artifact.sizeBytes)}`,
  ];
  if (version.description) lines.push(`  description  ${version.description}`);
  lines.push('signature');
  for (const input of version.signature.inputs) lines.push(`  input   ${tensor(input)}`);
  for (const output of version.signature.outputs) lines.push(`  output  ${tensor(output)}`);
  lines.push('metrics');
  if (Object.keys(version.metrics).length === 0) lines.push('  (none)');
  for (const [key, value] of Object.entries(version.metrics)) lines.push(`  ${key.padEnd(20)} ${value}`);
  if (Object.keys(version.params).length > 0) lines.push('params', `  ${pairs(version.params)}`);
  if (Object.keys(version.tags).length > 0) lines.push('tags', `  ${pairs(version.tags)}`);
  lines.push(
    'lineage',
    `  training run    ${orAbsent(lineage.trainingRunId)}${lineage.experimentName ? ` (experiment ${lineage.experimentName})` : ''}`,
    `  trainer         ${orAbsent([lineage.trainerName, lineage.trainerVersion].filter(Boolean).join(' '))}`,
    `  training set    ${orAbsent(lineage.trainingSetId)}`,
    `  dataset versions ${lineage.datasetVersionIds.length > 0 ? lineage.datasetVersionIds.join(', ') : '(absent)'}`,
    `  feature views   ${lineage.featureViews.length > 0 ? lineage.featureViews.map((view) => `${view.viewName} v${view.viewVersion}`).join(', ') : '(absent)'}`,
    `  pipeline run    ${orAbsent(lineage.pipelineRunId)}`,
    `  code commit     ${orAbsent(lineage.codeCommit)}`,
    `  reference profile ${version.referenceProfile ? `sha256 ${version.referenceProfile.sha256}` : '(absent)'}`,
  );
  return lines;
}

function aliasEvent(event: HistoryEvent, alias: string): boolean {
  return (
    (event.type === 'ModelVersionAliasSet' || event.type === 'ModelVersionAliasRemoved' || event.type === 'PromotionGateEvaluated') && event.data.alias === alias
  );
}

async function history(registry: ServiceClient, name: string, alias: string | undefined, json: boolean): Promise<number> {
  const { events } = await registry.get<{ events: HistoryEvent[] }>(`/v1/models/${segment(name)}/history`);
  const shown = alias === undefined ? events : events.filter((event) => aliasEvent(event, alias));
  if (json) {
    printJson({ events: shown });
    return 0;
  }
  if (shown.length === 0) {
    console.log(alias === undefined ? `no events for ${name}` : `alias "${alias}" of ${name} was never set`);
    return 0;
  }
  for (const event of shown) {
    const { summary, details } = describeHistoryEvent(event);
    console.log(`${time(event.time)}  ${summary}  by ${event.actor}`);
    for (const detail of details) console.log(`    ${detail}`);
  }
  return 0;
}

async function aliasAt(registry: ServiceClient, name: string, alias: string, at: string, json: boolean): Promise<number> {
  const response = await registry.request<{ alias: string; version: number } | { error: string }>('GET', `/v1/models/${segment(name)}/aliases/${segment(alias)}`, { query: { at }, accept: [404] });
  if (response.status === 404) {
    const message = (response.body as { error?: string }).error ?? `no version held "${alias}" at ${at}`;
    // A model that does not exist is an error; an alias nobody held then is an answer ("none").
    if (/no (registered )?model|unknown model/i.test(message)) throw new CliError(message);
    if (json) printJson({ model: name, alias, at, version: null });
    else console.log(`${name}: no version held "${alias}" at ${time(at)}`);
    return 1;
  }
  const { version } = response.body as { version: number };
  // The move that put it there: the last time the alias was set at or before `at`.
  const { events } = await registry.get<{ events: HistoryEvent[] }>(`/v1/models/${segment(name)}/history`);
  const move = events.filter((event) => event.type === 'ModelVersionAliasSet' && event.data.alias === alias && Date.parse(event.time) <= Date.parse(at)).at(-1);
  if (json) {
    printJson({ model: name, alias, at, version, setBy: move ? { time: move.time, actor: move.actor, reason: move.data.reason, evidence: move.data.evidence } : null });
    return 0;
  }
  console.log(`${name}: "${alias}" was version ${version} at ${time(at)}`);
  if (move) {
    const { summary, details } = describeHistoryEvent(move);
    console.log(`  since ${time(move.time)}: ${summary} by ${move.actor}`);
    for (const detail of details) console.log(`    ${detail}`);
  }
  return 0;
}

interface PromotionJson {
  readonly name: string;
  readonly alias: string;
  readonly version: number;
  readonly previousVersion: number | null;
  readonly promoted: boolean;
  readonly evidence: GateEvidence;
}

async function promote(registry: ServiceClient, name: string, version: number, alias: string, reason: string, json: boolean): Promise<number> {
  const response = await registry.request<PromotionJson>('POST', `/v1/models/${segment(name)}/versions/${version}/promote`, { body: { alias, reason }, accept: [409] });
  if (response.status === 409) {
    const refusal = response.body as unknown as { error?: string; details?: { evidence?: GateEvidence } };
    const evidence = refusal.details?.evidence;
    if (json) printJson({ name, alias, version, promoted: false, reason: refusal.error ?? null, evidence: evidence ?? null });
    else {
      console.error(`loopline models: promotion of ${name} v${version} to ${alias} refused: ${refusal.error ?? 'conflict'}`);
      if (evidence) for (const line of evidenceLines(evidence)) console.error(line);
    }
    return 1;
  }
  const result = response.body;
  if (json) {
    printJson(result);
    return 0;
  }
  const previous = result.previousVersion === null ? '' : ` (was v${result.previousVersion})`;
  console.log(`${name}: ${alias} → v${result.version}${previous}`);
  for (const line of evidenceLines(result.evidence)) console.log(line);
  return 0;
}

async function evaluate(registry: ServiceClient, name: string, version: number, alias: string, json: boolean): Promise<number> {
  const evidence = await registry.request<GateEvidence>('POST', `/v1/models/${segment(name)}/versions/${version}/evaluate`, { body: { alias } });
  if (json) printJson(evidence.body);
  else {
    console.log(`${name} v${version} → ${alias}: dry run, nothing recorded or moved`);
    for (const line of evidenceLines(evidence.body)) console.log(line);
  }
  return evidence.body.passed ? 0 : 1;
}

async function force(registry: ServiceClient, name: string, version: number, alias: string, reason: string, json: boolean): Promise<number> {
  // What the gate would have said, so that the record of an override is not blind.
  let evidence: GateEvidence | undefined;
  let gateProblem: string | undefined;
  try {
    evidence = (await registry.request<GateEvidence>('POST', `/v1/models/${segment(name)}/versions/${version}/evaluate`, { body: { alias } })).body;
  } catch (error) {
    if (!(error instanceof ServiceResponseError)) throw error;
    gateProblem = error.message;
  }
  const moved = await registry.request<{ name: string; alias: string; version: number; previousVersion: number | null }>('PUT', `/v1/models/${segment(name)}/aliases/${segment(alias)}`, {
    body: { version, reason },
  });
  if (json) {
    printJson({ ...moved.body, forced: true, reason, gate: evidence ?? null });
    return 0;
  }
  const previous = moved.body.previousVersion === null ? '' : ` (was v${moved.body.previousVersion})`;
  console.log(`${name}: ${alias} → v${moved.body.version}${previous}, forced without the gate: ${reason}`);
  if (evidence) {
    console.log('  the gate, not enforced:');
    for (const line of evidenceLines(evidence, '    ')) console.log(line);
  } else if (gateProblem) console.log(`  the gate could not be evaluated: ${gateProblem}`);
  return 0;
}
