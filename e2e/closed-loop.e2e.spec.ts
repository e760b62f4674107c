/**
 * The closed loop, end to end, as `npm start` runs it but shortened: `loopline demo` starts the
 * whole platform on its own data folder and free ports, trains the first model through the
 * flights-retrain pipeline, replays five weeks of real flights as live traffic with labels and
 * weekly data drops, and lets the platform act:
 * - the loop fires: a monitoring alert starts the pipeline, and its retrained model, better than a
 *   deliberately weak first champion (two stumps), passes the gate, takes a canary share and is
 *   promoted on the live comparison;
 * - a deliberately worse candidate (the same two stumps, started mid-replay) passes the registry's
 *   absolute gate but is rolled back by the live comparison against the better champion;
 * - `loopline lineage --json` of a late prediction walks prediction → model version → training
 *   run → training set → dataset versions → pipeline run.
 * Real: every process (Kafka, PostgreSQL, chDB, the seven services), the flights data.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { platformEnv, testInfra, uniqueName } from '@loopline/testing';
import type { ScenarioSummary } from '../tools/cli/src/demo/scenario';

const root = resolve(__dirname, '..');
const cli = join(root, 'bin', 'loopline.js');

describe('the closed loop', () => {
  const dataDir = join(testInfra().dataDir, uniqueName('loop'));
  const summaryFile = join(dataDir, '..', `${uniqueName('loop-summary')}.json`);
  let env: NodeJS.ProcessEnv;
  let summary: ScenarioSummary;
  let output = '';

  before(async () => {
    env = await platformEnv(dataDir, { LOOPLINE_KAFKA_HEAP_MB: '384' });
    const demo = spawn(
      process.execPath,
      [
        cli, 'demo',
        '--from', '2001-01-01', '--replay-from', '2001-01-22', '--until', '2001-02-26',
        '--sample', '0.3', '--traffic', '0.025', '--speed', '3.5',
        '--weak-start', '--bad-candidate', '2001-02-05',
        '--monitor-metric', 'roc_auc', '--monitor-threshold', '0.58', '--window', '600',
        // One announcement per alert: the scenario's own worse candidate must have the canary alone.
        '--repeat-alerts', '30m',
        '--summary-json', summaryFile,
      ],
      { env, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((done) => demo.on('exit', (exitCode) => done(exitCode)));
    assert.equal(code, 0, `loopline demo failed:\n${output.slice(-6_000)}`);
    summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as ScenarioSummary;
    console.log(output.split('\n').filter((line) => !line.startsWith('[demo] 2001')).slice(-40).join('\n'));
  });

  after(() => {
    spawnSync(process.execPath, [cli, 'down'], { env, encoding: 'utf8' });
  });

  it('served live traffic and received its labels', () => {
    assert.ok(summary.predictions > 2_000, `${summary.predictions} predictions`);
    assert.ok(summary.labels > 0.9 * summary.predictions, `${summary.labels} labels for ${summary.predictions} predictions`);
    assert.ok(summary.failedPredictions < 0.01 * summary.predictions, `${summary.failedPredictions} failed predictions`);
    assert.ok(summary.datasetVersions >= 3, `${summary.datasetVersions} weekly dataset versions`);
  });

  it('fires the loop: an alert retrains the model and the better challenger is promoted on live traffic', () => {
    const triggered = summary.runs.filter((run) => run.trigger !== 'manual');
    assert.ok(triggered.length > 0, `no alert-triggered run; alerts: ${JSON.stringify(summary.alerts.map((alert) => alert.kind))}`);
    const promoted = triggered.find((run) => run.deployed === true);
    assert.ok(promoted, `no triggered run was promoted: ${JSON.stringify(triggered)}`);
    const evidence = promoted.evidence as { decision: string; metric: string; champion: { labelled: number; value: number }; challenger: { labelled: number; value: number } };
    assert.equal(evidence.decision, 'promote');
    assert.equal(evidence.metric, 'roc_auc');
    assert.ok(evidence.challenger.labelled >= 300 && evidence.champion.labelled >= 300, JSON.stringify(evidence));
    assert.ok(evidence.challenger.value >= evidence.champion.value, JSON.stringify(evidence));
    assert.ok(summary.reactions.length > 0, 'the reaction time was measured');
    const first = summary.versions.find((version) => version.version === 1);
    assert.notEqual(summary.champion, 1, `the weak first model is still the champion: ${JSON.stringify(first)}`);
  });

  it('rolls back the deliberately worse candidate on the live comparison', () => {
    const bad = summary.runs.find((run) => run.reason.includes('deliberately worse'));
    assert.ok(bad, 'the worse candidate was started');
    assert.equal(bad.rolledBack, true, JSON.stringify(bad));
    assert.equal(bad.deployed, false);
    const evidence = bad.evidence as { decision: string; champion: { value: number }; challenger: { value: number; version: number } };
    assert.equal(evidence.decision, 'rollback');
    assert.ok(evidence.challenger.value < evidence.champion.value, JSON.stringify(evidence));
    assert.notEqual(summary.champion, bad.version);
  });

  it('traces a late prediction back to its data and pipeline run', () => {
    assert.ok(summary.lastPredictionId, 'a prediction id');
    const result = spawnSync(process.execPath, [cli, 'lineage', summary.lastPredictionId, '--json'], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const chain = JSON.parse(result.stdout) as {
      prediction: { status: string; value: { modelVersion: number | string } };
      modelVersion: { status: string; value: { version: number } };
      trainingRun: { status: string };
      trainingSet: { status: string };
      datasetVersions: { version: { status: string } }[];
      pipelineRun: { status: string; value: { runId: string; pipelineName: string } };
      codeCommit: { status: string; value: { commit: string } };
    };
    assert.equal(chain.prediction.status, 'present');
    assert.equal(chain.modelVersion.status, 'present');
    assert.equal(Number(chain.prediction.value.modelVersion), chain.modelVersion.value.version);
    assert.equal(chain.trainingRun.status, 'present');
    assert.equal(chain.trainingSet.status, 'present');
    assert.ok(chain.datasetVersions.length > 0 && chain.datasetVersions.every((link) => link.version.status === 'present'), JSON.stringify(chain.datasetVersions));
    assert.equal(chain.pipelineRun.status, 'present');
    assert.equal(chain.pipelineRun.value.pipelineName, 'flights-retrain');
    const run = summary.runs.find((candidate) => candidate.runId === chain.pipelineRun.value.runId);
    assert.equal(run?.version, chain.modelVersion.value.version, 'the pipeline run is the one that trained the serving version');
    // The demo ran in this checkout, so training recorded its commit.
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' });
    if (head.status === 0) assert.deepEqual([chain.codeCommit.status, chain.codeCommit.value.commit], ['present', head.stdout.trim()]);
  });
});
