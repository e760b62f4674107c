// `loopline runs ls|show|logs`: training runs, the experiment tracking of the training service
// (LOOPLINE_TRAINING_URL, default http://127.0.0.1:7004). Pipeline runs are `loopline pipelines`.
import { bytes, duration, number, pairs, parseCommandArgs, printJson, runReporting, short, table, time, type PlatformCommand } from './cli-output';
import { segment, ServiceClient, UsageError } from './service-client';

export const runsUsage = `usage: loopline runs <command> [--json]

  ls [--experiment <name>] [--status RUNNING|FINISHED|FAILED|KILLED] [--model <name>] [--limit N]
                    training runs, newest first (every experiment's unless --experiment)
  show <run-id>     params, metrics, tags, artifacts, training data, lineage, outcome
  logs <run-id>     the run's timeline (start, every logged metric, end or failure) and the
                    captured output of its trainer (trainer.log of external trainers)

Pipeline runs are under \`loopline pipelines status\`. The training service's URL comes from
LOOPLINE_TRAINING_URL, or http://127.0.0.1:7004.`;

const options = {
  json: { type: 'boolean', default: false },
  experiment: { type: 'string', short: 'e' },
  status: { type: 'string' },
  model: { type: 'string' },
  limit: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const runStatuses = ['RUNNING', 'FINISHED', 'FAILED', 'KILLED'];

interface RunSummaryJson {
  readonly runId: string;
  readonly runName: string;
  readonly experimentName: string;
  readonly modelName: string;
  readonly status: string;
  readonly trainer: string;
  readonly trainingSetId: string;
  readonly parentRunId: string | null;
  readonly jobKind: string | null;
  readonly params: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly registered: { readonly modelName: string; readonly version: number } | null;
  readonly startedAt: string;
  readonly endedAt: string | null;
}

interface ArtifactJson {
  readonly name: string;
  readonly uri: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly contentType: string;
}

export interface TrainingRunJson {
  readonly runId: string;
  readonly runName: string;
  readonly experimentName: string;
  readonly modelName: string;
  readonly status: string;
  readonly trainer: { readonly name: string; readonly version: string };
  readonly params: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, number>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly artifacts: readonly ArtifactJson[];
  readonly trainingData: {
    readonly trainingSetId: string;
    readonly datasetVersionIds: readonly string[];
    readonly featureViews: readonly { readonly viewName: string; readonly viewVersion: number }[];
    readonly labelColumn: string;
    readonly featureColumns: readonly string[];
    readonly rowCount: number;
  };
  readonly seed: number | null;
  readonly codeCommit: string;
  readonly environmentLockSha256: string;
  readonly parentRunId: string | null;
  readonly task: { readonly pipelineRunId: string; readonly taskId: string; readonly attempt: number; readonly pipelineName: string; readonly stepKind: string } | null;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly model: ArtifactJson | null;
  readonly registered: { readonly modelName: string; readonly version: number } | null;
  readonly outputs: Readonly<Record<string, unknown>>;
  readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean; readonly logsUri: string } | null;
  readonly createdBy: string;
}

interface MetricPoint {
  readonly key: string;
  readonly value: number;
  readonly step: number;
  readonly timestamp: string;
}

export const runRunsCommand: PlatformCommand = (argv, env = process.env) =>
  runReporting('runs', runsUsage, async () => {
    const { values, positionals } = parseCommandArgs(argv, options);
    const [action, ...rest] = positionals;
    if (values.help || !action) {
      console.log(runsUsage);
      return values.help ? 0 : 2;
    }
    const training = ServiceClient.of('training', env);
    switch (action) {
      case 'ls':
      case 'list': {
        if (rest.length > 0) throw new UsageError(`ls takes no arguments (got "${rest.join(' ')}"); filter with --experiment, --status, --model`);
        const status = values.status?.toUpperCase();
        if (status !== undefined && !runStatuses.includes(status)) throw new UsageError(`--status must be one of ${runStatuses.join(', ')}`);
        if (values.limit !== undefined && !/^[1-9]\d*$/.test(values.limit)) throw new UsageError(`--limit "${values.limit}": expected a positive whole number`);
        return list(training, { experiment: values.experiment, status, model: values.model, limit: values.limit ? Number(values.limit) : 50 }, values.json);
      }
      case 'show':
        if (rest.length !== 1) throw new UsageError('show: give one run id');
        return show(training, rest[0]!, values.json);
      case 'logs':
        if (rest.length !== 1) throw new UsageError('logs: give one run id');
        return logs(training, rest[0]!, values.json);
      default:
        throw new UsageError(`unknown runs command "${action}"`);
    }
  });

async function list(training: ServiceClient, filter: { experiment?: string; status?: string; model?: string; limit: number }, json: boolean): Promise<number> {
  const experiments = filter.experiment !== undefined ? [filter.experiment] : (await training.get<{ experiments: { name: string }[] }>('/v1/experiments')).experiments.map((experiment) => experiment.name);
  const batches = await Promise.all(experiments.map((name) => training.get<{ runs: RunSummaryJson[] }>(`/v1/experiments/${segment(name)}/runs`, { status: filter.status })));
  const runs = batches
    .flatMap((batch) => batch.runs)
    .filter((run) => filter.model === undefined || run.modelName === filter.model || run.registered?.modelName === filter.model)
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    .slice(0, filter.limit);
  if (json) {
    printJson({ runs });
    return 0;
  }
  if (runs.length === 0) {
    console.log('no training runs');
    return 0;
  }
  const rows = runs.map((run) => [
    run.runId,
    run.experimentName,
    run.runName || '-',
    run.status,
    run.trainer,
    run.registered ? `${run.registered.modelName}:${run.registered.version}` : '-',
    headlineMetrics(run.metrics),
    time(run.startedAt),
    duration(run.startedAt, run.endedAt),
  ]);
  for (const line of table(['RUN', 'EXPERIMENT', 'NAME', 'STATUS', 'TRAINER', 'MODEL', 'METRICS', 'STARTED', 'TOOK'], rows)) console.log(line);
  return 0;
}

/** The few metrics worth a table column: quality first, bookkeeping (rows, seconds) left out. */
function headlineMetrics(metrics: Readonly<Record<string, number>>): string {
  const preferred = ['auc', 'roc_auc', 'accuracy', 'log_loss', 'f1', 'rmse', 'mae', 'r2'];
  const keys = [...preferred.filter((key) => key in metrics), ...Object.keys(metrics).filter((key) => !preferred.includes(key) && !/rows|seconds/.test(key))].slice(0, 3);
  return keys.map((key) => `${key}=${number(metrics[key]!)}`).join(' ') || '-';
}

async function show(training: ServiceClient, runId: string, json: boolean): Promise<number> {
  const run = await training.get<TrainingRunJson>(`/v1/runs/${segment(runId)}`);
  if (json) {
    printJson(run);
    return 0;
  }
  const data = run.trainingData;
  const lines = [
    `run ${run.runId}${run.runName ? ` (${run.runName})` : ''}  ${run.status}`,
    `  experiment   ${run.experimentName}`,
    `  trainer      ${run.trainer.name}${run.trainer.version ? ` ${run.trainer.version}` : ''}${run.seed === null ? '' : `  seed ${run.seed}`}`,
    `  started      ${time(run.startedAt)} by ${run.createdBy}`,
    `  ended        ${run.endedAt ? `${time(run.endedAt)} (${duration(run.startedAt, run.endedAt)})` : '(still running)'}`,
  ];
  if (run.parentRunId) lines.push(`  parent run   ${run.parentRunId}`);
  if (run.error) lines.push(`  error        ${run.error.code}: ${run.error.message}${run.error.retryable ? ' (retryable)' : ''}${run.error.logsUri ? `  logs ${run.error.logsUri}` : ''}`);
  lines.push('params', Object.keys(run.params).length > 0 ? `  ${pairs(run.params)}` : '  (none)');
  lines.push('metrics');
  if (Object.keys(run.metrics).length === 0) lines.push('  (none)');
  for (const [key, value] of Object.entries(run.metrics)) lines.push(`  ${key.padEnd(20)} ${value}`);
  if (Object.keys(run.tags).length > 0) {
    lines.push('tags');
    for (const [key, value] of Object.entries(run.tags)) lines.push(`  ${key} = ${value}`);
  }
  lines.push('artifacts');
  if (run.artifacts.length === 0) lines.push('  (none)');
  const width = Math.max(0, ...run.artifacts.map((artifact) => artifact.name.length));
  for (const artifact of run.artifacts) lines.push(`  ${artifact.name.padEnd(width)}  ${bytes(artifact.sizeBytes).padStart(10)}  sha256 ${short(artifact.sha256, 16)}  ${artifact.contentType}`);
  lines.push(
    'training data',
    `  training set     ${data.trainingSetId || '(absent)'}${data.rowCount ? `  ${data.rowCount} rows` : ''}`,
    `  label            ${data.labelColumn || '-'}`,
    `  features         ${data.featureColumns.join(', ') || '-'}`,
    `  dataset versions ${data.datasetVersionIds.join(', ') || '(absent)'}`,
    `  feature views    ${data.featureViews.map((view) => `${view.viewName} v${view.viewVersion}`).join(', ') || '(absent)'}`,
    'lineage',
    `  code commit      ${run.codeCommit || '(absent)'}`,
    `  environment lock ${run.environmentLockSha256 || '(absent)'}`,
    `  pipeline run     ${run.task ? `${run.task.pipelineRunId} (${run.task.pipelineName}/${run.task.taskId}, attempt ${run.task.attempt})` : '(absent)'}`,
    `  registered       ${run.registered ? `${run.registered.modelName}:${run.registered.version}` : run.modelName ? `(not registered; trains ${run.modelName})` : '(absent)'}`,
  );
  for (const line of lines) console.log(line);
  return 0;
}

async function logs(training: ServiceClient, runId: string, json: boolean): Promise<number> {
  const run = await training.get<TrainingRunJson>(`/v1/runs/${segment(runId)}`);
  const metricKeys = Object.keys(run.metrics);
  const histories = await Promise.all(metricKeys.map((key) => training.get<{ metrics: MetricPoint[] }>(`/v1/runs/${segment(run.runId)}/metrics/${segment(key)}/history`)));
  const points = histories.flatMap((history, index) => history.metrics.map((point) => ({ ...point, key: point.key ?? metricKeys[index] })));
  points.sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.step - b.step || a.key.localeCompare(b.key));
  const textArtifacts = run.artifacts.filter((artifact) => artifact.contentType.startsWith('text/') || artifact.name.endsWith('.log'));
  const outputs = await Promise.all(textArtifacts.map(async (artifact) => ({ name: artifact.name, text: await training.text(`/v1/runs/${segment(run.runId)}/artifacts/${segment(artifact.name)}`) })));
  if (json) {
    printJson({ runId: run.runId, status: run.status, startedAt: run.startedAt, endedAt: run.endedAt, metrics: points, error: run.error, logs: outputs });
    return 0;
  }
  console.log(`${time(run.startedAt)}  started  ${run.trainer.name}  experiment ${run.experimentName}${run.params && Object.keys(run.params).length > 0 ? `  params ${pairs(run.params)}` : ''}`);
  for (const point of points) console.log(`${time(point.timestamp)}  metric   ${point.key}=${number(point.value)}${point.step ? ` (step ${point.step})` : ''}`);
  if (run.status === 'RUNNING') console.log('(running)');
  else if (run.error) console.log(`${time(run.endedAt)}  ${run.status.toLowerCase()}   ${run.error.code}: ${run.error.message}`);
  else console.log(`${time(run.endedAt)}  ${run.status.toLowerCase()}${run.registered ? `  registered ${run.registered.modelName}:${run.registered.version}` : ''}`);
  if (outputs.length === 0) console.log('(no captured trainer output: built-in trainers run inside the service; an external trainer\'s output is kept as its trainer.log artifact)');
  for (const output of outputs) {
    console.log(`── ${output.name}`);
    process.stdout.write(output.text.endsWith('\n') || output.text === '' ? output.text : `${output.text}\n`);
  }
  return 0;
}
