// `loopline lineage <prediction-id>` and `loopline lineage --model <name>:<version>`: where a
// prediction or a model version comes from, link by link (lineage-chain.ts).
import { duration, number, pairs, parseCommandArgs, printJson, runReporting, short, time, type PlatformCommand } from './cli-output';
import { lineageClients, lineageOfModelVersion, lineageOfPrediction, unavailableLinks, type LineageChain, type Link } from './lineage-chain';
import { parseModelReference } from './models-command';
import { segment, ServiceClient, UsageError } from './service-client';

export const lineageUsage = `usage: loopline lineage <prediction-id> [--json]
       loopline lineage --model <name>:<version>|<name>:<alias> [--json]

Follows the chain prediction → model version → training run → training set → dataset versions
and feature views → pipeline run → code commit across monitoring, the registry, training, the
feature store, ingestion and orchestration. A link that was never recorded is shown as absent;
a service that does not answer is named, the rest of the chain is still shown, and the exit code
is 1. --json prints the whole chain (every link: present with its value, absent or unavailable
with why). Each service's URL comes from LOOPLINE_<SERVICE>_URL, or its default port.`;

const options = {
  model: { type: 'string', short: 'm' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export const runLineageCommand: PlatformCommand = (argv, env = process.env) =>
  runReporting('lineage', lineageUsage, async () => {
    const { values, positionals } = parseCommandArgs(argv, options);
    if (values.help) {
      console.log(lineageUsage);
      return 0;
    }
    if (values.model !== undefined && positionals.length > 0) throw new UsageError('give a prediction id or --model, not both');
    if (positionals.length > 1) throw new UsageError(`one prediction id at a time (got ${positionals.join(', ')})`);
    const clients = lineageClients(env);
    let chain: LineageChain;
    if (values.model !== undefined) {
      const reference = parseModelReference(values.model);
      const version = reference.version ?? (await aliasVersion(clients.registry, reference.name, reference.alias ?? 'champion'));
      chain = await lineageOfModelVersion(clients, reference.name, version);
    } else if (positionals.length === 1) {
      chain = await lineageOfPrediction(clients, positionals[0]!);
    } else {
      throw new UsageError('give a prediction id, or --model <name>:<version>');
    }
    if (values.json) printJson(chain);
    else for (const line of chainLines(chain)) console.log(line);
    const unavailable = unavailableLinks(chain);
    for (const reason of unavailable) console.error(`loopline lineage: incomplete: ${reason}`);
    return unavailable.length > 0 ? 1 : 0;
  });

async function aliasVersion(registry: ServiceClient, name: string, alias: string): Promise<number> {
  return (await registry.get<{ version: number }>(`/v1/models/${segment(name)}/aliases/${segment(alias)}`)).version;
}

const label = (text: string) => text.padEnd(14);

function linkLine<T>(title: string, link: Link<T>, describe: (value: T) => string, indent = ''): string {
  if (link.status === 'present') return `${indent}${label(title)}${describe(link.value)}`;
  return `${indent}${label(title)}${link.status === 'absent' ? 'absent' : 'UNAVAILABLE'}: ${link.reason}`;
}

/** The chain as text, one link per line (details indented under it). */
export function chainLines(chain: LineageChain): string[] {
  const lines: string[] = [];
  if (chain.prediction) {
    lines.push(
      linkLine('prediction', chain.prediction, (prediction) => {
        const role = [prediction.alias, prediction.trafficRole].filter(Boolean).join(', ');
        return `${prediction.predictionId}  ${prediction.modelName} v${prediction.modelVersion}${role ? ` (${role})` : ''}  at ${time(prediction.predictedAt)}  ${number(prediction.latencyMs)} ms`;
      }),
    );
    if (chain.prediction.status === 'present') {
      const prediction = chain.prediction.value;
      if (Object.keys(prediction.entityKeys ?? {}).length > 0) lines.push(`    entity   ${pairs(prediction.entityKeys)}`);
      lines.push(`    inputs   ${pairs(prediction.inputs, 8) || '-'}`, `    outputs  ${pairs(prediction.outputs, 8) || '-'}`);
      lines.push(`    label    ${prediction.label ? `${JSON.stringify(prediction.label.value)} (event ${time(prediction.label.eventTime)}, received ${time(prediction.label.receivedAt)})` : 'absent: no ground truth received yet'}`);
    }
  }
  lines.push(
    linkLine('model version', chain.modelVersion, (version) => {
      const aliases = version.aliases.length > 0 ? `  aliases ${version.aliases.join(',')}` : '';
      return `${version.name}:${version.version}  ${version.status}  registered ${time(version.registeredAt)} by ${version.registeredBy}${aliases}`;
    }),
  );
  if (chain.modelVersion.status === 'present') {
    const version = chain.modelVersion.value;
    lines.push(`    artifact sha256 ${version.artifact.sha256}`);
    if (Object.keys(version.metrics).length > 0) lines.push(`    metrics  ${pairs(version.metrics, 8)}`);
  }
  lines.push(
    linkLine('training run', chain.trainingRun, (run) => {
      const took = duration(run.startedAt, run.endedAt);
      return `${run.runId}  ${run.status}  ${run.trainer.name}  experiment ${run.experimentName}  ${time(run.startedAt)}${took ? ` (${took})` : ''}`;
    }),
  );
  if (chain.trainingRun.status === 'present' && Object.keys(chain.trainingRun.value.params).length > 0) lines.push(`    params   ${pairs(chain.trainingRun.value.params, 8)}`);
  lines.push(
    linkLine('training set', chain.trainingSet, (set) => {
      const service = set.recipe.featureService ? `  feature service ${set.recipe.featureService}` : '';
      return `${set.id}  ${set.rowCount} rows  built ${time(set.createdAt)}${service}`;
    }),
  );
  if (chain.datasetVersions.length === 0) lines.push(`${label('dataset')}absent: no dataset version is recorded`);
  for (const dataset of chain.datasetVersions) {
    const name = `${dataset.source ?? '?'}@${short(dataset.versionId)}`;
    lines.push(
      dataset.version.status === 'present'
        ? `  ${label('dataset')}${name}  ${dataset.version.value.rowCount} rows  ${dataset.version.value.status}  created ${time(dataset.version.value.createdAt)}  (${dataset.role})`
        : `  ${label('dataset')}${name}  (${dataset.role})  ${dataset.version.status === 'absent' ? 'absent' : 'UNAVAILABLE'}: ${dataset.version.reason}`,
    );
  }
  if (chain.featureViews.length === 0) lines.push(`${label('feature views')}absent: no feature view is recorded`);
  for (const view of chain.featureViews) {
    lines.push(
      view.view.status === 'present'
        ? `  ${label('feature view')}${view.name} v${view.version}  source ${view.view.value.source}  ${view.view.value.features.length} features  applied ${time(view.view.value.appliedAt)} by ${view.view.value.actor}`
        : `  ${label('feature view')}${view.name} v${view.version}  ${view.view.status === 'absent' ? 'absent' : 'UNAVAILABLE'}: ${view.view.reason}`,
    );
  }
  lines.push(
    linkLine('pipeline run', chain.pipelineRun, (run) => {
      const trigger = run.trigger.kind === 'manual' ? `by ${run.trigger.actor}` : `${run.trigger.kind}${run.trigger.triggerName ? ` ${run.trigger.triggerName}` : ''}`;
      return `${run.runId}  ${run.pipelineName} v${run.pipelineVersion}  ${run.status}  ${trigger}  ${time(run.createdAt)}`;
    }),
  );
  lines.push(linkLine('code commit', chain.codeCommit, (code) => `${code.commit}  (from ${code.from})`));
  return lines;
}
