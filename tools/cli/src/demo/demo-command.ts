// `loopline demo`: starts the local platform (detached: it stays up afterwards, so `loopline
// lineage`, `models`, `alerts` can look at what happened), then runs the flights scenario and
// prints every model version it produced and why. `--fresh` starts over from an empty data folder.
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadPlatformConfig } from '@loopline/config';
import { startPlatform, stopPlatform } from '../local-platform';
import { startInfrastructureWithGroups } from './kafka-groups-ready';
import { FlightsScenario, type ScenarioOptions, type ScenarioSummary } from './scenario';

export const demoUsage = `usage: loopline demo [options]

Runs the closed loop on real flights (flights-3m.parquet, January–June 2001): the first model is
trained on January–February through the flights-retrain pipeline, then March–June is replayed as
live traffic on an accelerated clock; drift and accuracy alerts retrain the model, the registry's
gate and a canary judged on live labelled traffic decide what serves. The platform stays up
afterwards (\`loopline down\` stops it).

options:
  --fresh                  stop the platform, delete its data folder, start again
  --speed <hours/s>        simulated hours per real second (default 8)
  --traffic <fraction>     share of the replayed flights that ask for a prediction (default 0.012)
  --sample <fraction>      share of the flights that enter the platform as data (default 0.25)
  --from <date>            first day of training data (default 2001-01-01)
  --replay-from <date>     first day of live traffic (default 2001-03-01)
  --until <date>           end of the replay, exclusive (default 2001-07-01)
  --bad-candidate <date>   at this simulated day, start a deliberately worse candidate (crippled
                           GBDT) to watch the live comparison roll it back
  --weak-start             train the first model with crippled params, so a retrained one is
                           clearly better (what the end-to-end test does)
  --monitor-metric <name>  live metric of the performance monitor (default accuracy)
  --monitor-threshold <n>  alert below this (default: the first model's holdout value − 0.02)
  --window <n>             predictions per monitoring window (default 1500)
  --repeat-alerts <dur>    announce a still-breaching alert again after this long, so a refused
                           retraining gets another chance on fresher data (default 2m)
  --summary-json <file>    also write the summary as JSON
  --data-dir <folder>      the platform's data folder (default .loopline)
  -h, --help               show this help`;

/** GBDT params that make a clearly worse model: two stumps. */
export const crippledParams = { rounds: 2, maxDepth: 1, numLeaves: 2, learningRate: 0.05 } as const;

function fraction(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0 || number > 1) throw new DemoUsageError(`--${name} must be a fraction in (0, 1], got "${value}"`);
  return number;
}

function positive(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new DemoUsageError(`--${name} must be a positive number, got "${value}"`);
  return number;
}

function day(value: string | undefined, name: string, fallback: string): Date {
  const text = value ?? fallback;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) throw new DemoUsageError(`--${name} must be a day like 2001-03-01, got "${text}"`);
  const date = new Date(`${text}T00:00:00Z`);
  if (date < new Date('2001-01-01T00:00:00Z') || date > new Date('2001-07-01T00:00:00Z')) throw new DemoUsageError(`--${name}: the flights data covers 2001-01-01 to 2001-07-01, got ${text}`);
  return date;
}

class DemoUsageError extends Error {}

export function parseDemoOptions(argv: string[]): { options: ScenarioOptions; fresh: boolean; summaryJson: string | undefined; dataDir: string | undefined; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      fresh: { type: 'boolean', default: false },
      speed: { type: 'string' },
      traffic: { type: 'string' },
      sample: { type: 'string' },
      from: { type: 'string' },
      'replay-from': { type: 'string' },
      until: { type: 'string' },
      'bad-candidate': { type: 'string' },
      'weak-start': { type: 'boolean', default: false },
      'monitor-metric': { type: 'string' },
      'monitor-threshold': { type: 'string' },
      window: { type: 'string' },
      'repeat-alerts': { type: 'string' },
      'summary-json': { type: 'string' },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const trainFrom = day(values.from, 'from', '2001-01-01');
  const replayFrom = day(values['replay-from'], 'replay-from', '2001-03-01');
  const replayUntil = day(values.until, 'until', '2001-07-01');
  if (!(trainFrom < replayFrom && replayFrom < replayUntil)) throw new DemoUsageError('the days must be in order: --from < --replay-from < --until');
  const badAt = values['bad-candidate'] === undefined ? null : day(values['bad-candidate'], 'bad-candidate', '');
  if (badAt && (badAt < replayFrom || badAt >= replayUntil)) throw new DemoUsageError('--bad-candidate must fall inside the replay');
  const metric = values['monitor-metric'] ?? 'accuracy';
  if (!['accuracy', 'roc_auc', 'log_loss', 'precision', 'recall', 'f1'].includes(metric)) throw new DemoUsageError(`--monitor-metric must be accuracy, roc_auc, log_loss, precision, recall or f1, got "${metric}"`);
  const options: ScenarioOptions = {
    modelName: 'flight-delay',
    trainFrom,
    replayFrom,
    replayUntil,
    dataSample: fraction(values.sample, 'sample', 0.25),
    trafficSample: fraction(values.traffic, 'traffic', 0.012),
    seed: 2001,
    speed: positive(values.speed, 'speed', 8),
    labelDelayHours: 6,
    dataDropHours: 24,
    freshWindowDays: 14,
    // A weak start or a bad candidate must reach the canary: the floors only keep out a useless model.
    pipelineParams: values['weak-start'] || badAt ? { minAuc: 0.5 } : {},
    initialParams: values['weak-start'] ? { ...crippledParams } : {},
    badCandidate: badAt ? { at: badAt, params: { ...crippledParams } } : null,
    // The gate compares with the champion (holdout AUC at most 0.1 below it: the champion's holdout
    // is older data than a retrained candidate's, so the two numbers are not measured on the same
    // flights and the live canary comparison is the judge) unless a deliberately worse candidate
    // must get through it to show the live comparison rolling it back.
    gate: values['weak-start'] || badAt ? { minAuc: 0.5, maxDegradation: null } : { minAuc: 0.6, maxDegradation: 0.1 },
    monitors: {
      windowSize: Math.round(positive(values.window, 'window', 1500)),
      driftShare: 0.5,
      metric,
      threshold: values['monitor-threshold'] === undefined ? null : positive(values['monitor-threshold'], 'monitor-threshold', 0),
      minLabelled: 300,
      repeatAfter: repeatAlerts(values['repeat-alerts']),
    },
    settleTimeoutMs: 180_000,
    concurrency: 8,
  };
  return { options, fresh: values.fresh ?? false, summaryJson: values['summary-json'], dataDir: values['data-dir'], help: values.help ?? false };
}

const fixed = (value: number | null | undefined, digits = 3) => (value === null || value === undefined ? '—' : value.toFixed(digits));

export function printSummary(summary: ScenarioSummary, write: (line: string) => void): void {
  write('');
  write(`The loop, in ${Math.round(summary.elapsedSeconds)} s: ${summary.predictions} predictions, ${summary.labels} labels, ${summary.datasetVersions} new dataset versions, ${summary.alerts.length} alerts, ${summary.runs.length} pipeline runs.`);
  write('');
  const header = ['version', 'created because', 'holdout AUC', 'holdout acc.', 'live AUC', 'live acc.', 'labelled', 'champion since (simulated)', 'outcome'];
  const rows = summary.versions.map((version) => [
    `v${version.version}${version.version === summary.champion ? ' ★' : ''}`,
    version.reason.length > 48 ? `${version.reason.slice(0, 47)}…` : version.reason,
    fixed(version.holdout.auc),
    fixed(version.holdout.accuracy),
    fixed(version.live.rocAuc),
    fixed(version.live.accuracy),
    String(version.live.labelled),
    version.championAtSimulated === null ? '—' : /^\d{4}-/.test(version.championAtSimulated) ? version.championAtSimulated.slice(0, 16).replace('T', ' ') : version.championAtSimulated,
    version.outcome.length > 70 ? `${version.outcome.slice(0, 69)}…` : version.outcome,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  write(line(header));
  write(line(widths.map((width) => '─'.repeat(width))));
  for (const row of rows) write(line(row));
  write('★ the champion now');
  write('');
  if (summary.reactions.length === 0) write('Reaction time: no alert-triggered retraining reached the canary in this run.');
  for (const reaction of summary.reactions) {
    write(`Reaction time: ${reaction.seconds.toFixed(1)} s from alert ${reaction.alertId} (${reaction.alertKind}, detected) to the retrained challenger taking canary traffic (run ${reaction.runId}; goal ≤ 60 s).`);
  }
  write('');
  write('Look around — the platform is still running:');
  if (summary.lastPredictionId) write(`  npx loopline lineage ${summary.lastPredictionId}     # why did this prediction come out? model → run → training set → data`);
  write(`  npx loopline models history ${summary.modelName}      # every alias move, with actor and reason`);
  write(`  npx loopline alerts --model ${summary.modelName}`);
  write('  npx loopline pipelines status --pipeline flights-retrain');
  write('  npx loopline down                          # stop everything (npm start -- --fresh starts over)');
}

export async function runDemoCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: ReturnType<typeof parseDemoOptions>;
  try {
    parsed = parseDemoOptions(argv);
  } catch (error) {
    if (error instanceof DemoUsageError || (error instanceof TypeError && 'code' in error)) {
      console.error(`loopline demo: ${error.message}\n\n${demoUsage}`);
      return 2;
    }
    throw error;
  }
  if (parsed.help) {
    console.log(demoUsage);
    return 0;
  }
  const platformEnv: NodeJS.ProcessEnv = { ...env, ...(parsed.dataDir ? { LOOPLINE_DATA_DIR: parsed.dataDir } : {}) };
  const config = loadPlatformConfig(platformEnv);
  const log = (line: string) => process.stdout.write(`\x1b[2m[loopline]\x1b[0m ${line}\n`);
  const dataDir = resolve(config.dataDir);
  const workDir = resolve(dataDir, 'demo');
  if (parsed.fresh) {
    log(`--fresh: stopping the platform and deleting ${dataDir}`);
    await stopPlatform(config, log);
    rmSync(dataDir, { recursive: true, force: true });
  }
  // Ingestion may import the demo's landing file in place (the pipeline's ingest step does).
  const importRoot = FlightsScenario.importRoot(workDir);
  const existingRoots = platformEnv.LOOPLINE_INGESTION_IMPORT_ROOTS ? `${platformEnv.LOOPLINE_INGESTION_IMPORT_ROOTS},` : '';
  const serviceEnv: NodeJS.ProcessEnv = { ...platformEnv, LOOPLINE_INGESTION_IMPORT_ROOTS: `${existingRoots}${importRoot}` };
  const started = Date.now();
  await startInfrastructureWithGroups(config, log);
  const platform = await startPlatform(config, serviceEnv, log);
  log(`platform up in ${((Date.now() - started) / 1000).toFixed(1)} s (${platform.endpoints.filter((entry) => entry.reused && entry.name !== 'kafka' && entry.name !== 'postgres').length} of the services were already running); it stays up after the demo`);
  if (platform.endpoints.some((entry) => entry.name === 'ingestion' && entry.reused)) {
    log('ingestion was already running: if it was not started by `loopline demo`, it may refuse the demo\'s imports — then run `loopline demo --fresh`');
  }
  const scenario = new FlightsScenario(parsed.options, platformEnv, workDir, process.stdout);
  const summary = await scenario.run();
  printSummary(summary, (line) => process.stdout.write(`${line}\n`));
  if (parsed.summaryJson) writeFileSync(parsed.summaryJson, `${JSON.stringify(summary, null, 2)}\n`);
  return 0;
}

/** `--repeat-alerts`: a duration such as 90s, 2m or 1h (monitoring checks it again). */
function repeatAlerts(value: string | undefined): string {
  if (value === undefined) return '2m';
  if (!/^\d+(ms|s|m|h|d)$/.test(value.trim())) throw new DemoUsageError(`--repeat-alerts: expected a duration such as 90s, 2m or 1h, got "${value}"`);
  return value.trim();
}
