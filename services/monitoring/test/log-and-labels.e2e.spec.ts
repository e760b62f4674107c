/**
 * The prediction log and ground-truth labels through the public REST API, with the monitoring
 * service in-process on the run's real Kafka, PostgreSQL and chDB: predictions published as
 * serving publishes them, labels sent before their predictions (out of order), after them, by
 * prediction id and by entity key and time, and never; the performance and stats endpoints and
 * a performance backfill count exactly those; bad requests get a 4xx naming the problem.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import { kafkaForTests, monitoringEnv, predictionMessage, rest, startMonitoring, type MonitoringUnderTest } from './harness';

interface PerformanceBody {
  versions: { version: number; predictions: number; labelled: number; task: string; metrics: Record<string, number | null> }[];
}

describe('MonitoringService prediction log and labels', () => {
  let monitoring: MonitoringUnderTest;
  let kafka: Awaited<ReturnType<typeof kafkaForTests>>;
  const model = uniqueName('delay-clf').replace(/_/g, '-');
  // Recent times: Kafka's 7-day time-based retention would delete records stamped long ago.
  const base = Date.now() - 600_000;
  const ids: string[] = [];

  before(async () => {
    kafka = await kafkaForTests();
    monitoring = await startMonitoring(await monitoringEnv(join(testInfra().dataDir, uniqueName('monitoring_log')), { LOOPLINE_MONITORING_DEFAULT_MONITORS: 'false' }));
  });

  after(async () => {
    await monitoring?.stop();
    await kafka?.close();
  });

  it('stores every predicted row and joins labels that arrive before, after, by id and by entity', async () => {
    for (let i = 0; i < 10; i += 1) ids.push(`${model}-p${i}`);
    // Labels of p0..p2 arrive before their predictions are even logged.
    const early = await rest(monitoring.baseUrl, 'POST', '/v1/labels', {
      labels: [0, 1, 2].map((i) => ({ predictionId: ids[i], targetName: 'delayed', value: true, eventTime: new Date(base + 60_000).toISOString() })),
    });
    assert.equal(early.status, 202);
    assert.deepEqual(early.body, { accepted: 3 });

    const messages = ids.map((predictionId, i) =>
      predictionMessage({
        predictionId,
        modelName: model,
        modelVersion: 1,
        inputs: { distance: [100 * i], origin: ['ATL'] },
        outputs: { label: [i % 2], probabilities: [[1 - i / 10, i / 10]] },
        ...(i >= 6 ? { entityKeys: { flight: `F${i}` } } : {}),
        latencyMs: i + 1,
        predictedAtMs: base + i * 1_000,
      }).message,
    );
    await kafka.producer.publish(messages);

    const late = await rest(monitoring.baseUrl, 'POST', '/v1/labels', {
      labels: [
        { predictionId: ids[3], targetName: 'delayed', value: 1, eventTime: new Date(base + 60_000).toISOString() },
        { predictionId: ids[4], targetName: 'delayed', value: false, eventTime: new Date(base + 60_000).toISOString() },
        { predictionId: ids[5], targetName: 'delayed', value: 'true', eventTime: new Date(base + 60_000).toISOString() },
        // The outcome of flight F8, after its prediction: scores p8.
        { entityKeys: { flight: 'F8' }, modelName: model, targetName: 'delayed', value: 0, eventTime: new Date(base + 9_500).toISOString() },
        // An outcome of F7 from before p7 was made: it scores no prediction of this model.
        { entityKeys: { flight: 'F7' }, targetName: 'delayed', value: 1, eventTime: new Date(base - 1_000).toISOString() },
        // Another target: never mixed in.
        { predictionId: ids[6], targetName: 'minutes_late', value: 12, eventTime: new Date(base + 60_000).toISOString() },
      ],
    });
    assert.equal(late.status, 202);
    // p6 and p9 never get a `delayed` label; p7's only label predates it.

    const performance = await eventually(
      async () => {
        const response = await rest<PerformanceBody>(monitoring.baseUrl, 'GET', `/v1/models/${model}/performance?targetName=delayed`);
        assert.equal(response.status, 200);
        const version = response.body.versions[0];
        assert.ok(version && version.predictions === 10 && version.labelled === 7, JSON.stringify(response.body));
        return version;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: '10 predictions, 7 labelled' },
    );
    // Labelled rows (score, predicted, truth): p0 (0.0, 0, 1) p1 (0.1, 1, 1) p2 (0.2, 0, 1) p3 (0.3, 1, 1)
    // p4 (0.4, 0, 0) p5 (0.5, 1, 1) p8 (0.8, 0, 0). Unlabelled p6, p7, p9 count for nothing.
    assert.equal(performance.task, 'classification');
    assert.ok(Math.abs(performance.metrics.accuracy! - 5 / 7) < 1e-9, `accuracy ${performance.metrics.accuracy}`);
    assert.equal(performance.metrics.precision, 1);
    assert.ok(Math.abs(performance.metrics.recall! - 0.6) < 1e-9);
    assert.ok(Math.abs(performance.metrics.f1! - 0.75) < 1e-9);
    // Positives (0, .1, .2, .3, .5) against negatives (.4, .8): one ordered pair of ten.
    assert.ok(Math.abs(performance.metrics.roc_auc! - 0.1) < 1e-9, `roc_auc ${performance.metrics.roc_auc}`);
    const clamp = (p: number) => Math.min(Math.max(p, 1e-15), 1 - 1e-15);
    const expectedLogLoss = -[
      [0, 1],
      [0.1, 1],
      [0.2, 1],
      [0.3, 1],
      [0.4, 0],
      [0.5, 1],
      [0.8, 0],
    ].reduce((sum, [p, y]) => sum + (y === 1 ? Math.log(clamp(p!)) : Math.log(1 - clamp(p!))), 0) / 7;
    assert.ok(Math.abs(performance.metrics.log_loss! - expectedLogLoss) < 1e-9, `log_loss ${performance.metrics.log_loss} vs ${expectedLogLoss}`);
  });

  it('serves one prediction with its inputs, outputs and the label that scored it', async () => {
    const byEntity = await rest<Record<string, unknown>>(monitoring.baseUrl, 'GET', `/v1/predictions/${ids[8]}`);
    assert.equal(byEntity.status, 200);
    assert.equal(byEntity.body.modelName, model);
    assert.equal(byEntity.body.modelVersion, 1);
    assert.equal(byEntity.body.trafficRole, 'primary');
    assert.deepEqual(byEntity.body.entityKeys, { flight: 'F8' });
    assert.deepEqual(byEntity.body.inputs, { distance: 800, origin: 'ATL' });
    assert.deepEqual((byEntity.body.label as { value: string }).value, '0');
    const unlabelled = await rest<Record<string, unknown>>(monitoring.baseUrl, 'GET', `/v1/predictions/${ids[9]}`);
    assert.equal(unlabelled.body.label, null);
    const unknown = await rest<{ error: string }>(monitoring.baseUrl, 'GET', '/v1/predictions/no-such-prediction');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, /no-such-prediction/);
  });

  it('counts predictions and labelled ones in the stats', async () => {
    const stats = await rest<{ predictions: number; labelled: number; versions: { version: number; predictions: number }[] }>(monitoring.baseUrl, 'GET', `/v1/models/${model}/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.predictions, 10);
    // Any target: p0..p6 by id (p6 for minutes_late) and p8 by entity.
    assert.equal(stats.body.labelled, 8);
    assert.deepEqual(stats.body.versions.map((version) => [version.version, version.predictions]), [[1, 10]]);
  });

  it('judges a performance window over labelled predictions only, and not at all with too few labels', async () => {
    const monitorName = `${model}-accuracy`;
    const spec = (minLabelled: number) => ({
      modelName: model,
      version: 1,
      window: { kind: 'count', size: 10 },
      performance: { metric: 'accuracy', threshold: 0.9, targetName: 'delayed', minLabelled },
    });
    const put = await rest(monitoring.baseUrl, 'PUT', `/v1/monitors/${monitorName}`, spec(8));
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const notJudged = await rest<{ evaluation: { performance: { verdict: string; reason: string } }; alert: { action: string } }>(monitoring.baseUrl, 'POST', `/v1/monitors/${monitorName}/evaluate`);
    assert.equal(notJudged.status, 200);
    assert.equal(notJudged.body.evaluation.performance.verdict, 'not_judged');
    assert.match(notJudged.body.evaluation.performance.reason, /7 labelled predictions, fewer than minLabelled \(8\)/);
    assert.equal(notJudged.body.alert.action, 'none');

    await rest(monitoring.baseUrl, 'PUT', `/v1/monitors/${monitorName}`, spec(5));
    // The window is full: the monitor judges it (by itself on its next tick, or now).
    const judged = await rest<{ evaluation: { performance: { verdict: string; value: number; labelled: number } }; alert: { action: string } }>(monitoring.baseUrl, 'POST', `/v1/monitors/${monitorName}/evaluate`);
    assert.equal(judged.body.evaluation.performance.verdict, 'breached');
    assert.equal(judged.body.evaluation.performance.labelled, 7);
    assert.ok(Math.abs(judged.body.evaluation.performance.value - 5 / 7) < 1e-9);
    assert.ok(['raised', 'kept_open'].includes(judged.body.alert.action), judged.body.alert.action);
    const open = await rest<{ alerts: { kind: string; status: string; evidence: { metricName: string; value: number; threshold: number; sampleSize: string } }[] }>(
      monitoring.baseUrl,
      'GET',
      `/v1/alerts?modelName=${model}&status=open`,
    );
    assert.equal(open.body.alerts.length, 1, 'one open alert per monitor and version');
    assert.equal(open.body.alerts[0]!.kind, 'performance');
    assert.equal(open.body.alerts[0]!.evidence.metricName, 'accuracy');
    assert.equal(open.body.alerts[0]!.evidence.sampleSize, '7');

    const backfill = await rest<{ windows: number; evaluations: { evaluation: { performance: { verdict: string; value: number; labelled: number } } }[] }>(
      monitoring.baseUrl,
      'POST',
      `/v1/monitors/${monitorName}/backfill`,
      {},
    );
    assert.equal(backfill.status, 200, JSON.stringify(backfill.body));
    assert.equal(backfill.body.windows, 1);
    assert.equal(backfill.body.evaluations[0]!.evaluation.performance.labelled, 7);
    const again = await rest<{ alerts: unknown[] }>(monitoring.baseUrl, 'GET', `/v1/alerts?modelName=${model}`);
    assert.equal(again.body.alerts.length, 1, 'neither a backfill nor a re-evaluation raises a second alert');
  });

  it('answers bad requests with a 4xx naming the problem', async () => {
    const unknownMonitor = await rest<{ error: string }>(monitoring.baseUrl, 'GET', '/v1/monitors/no-such-monitor');
    assert.equal(unknownMonitor.status, 404);
    assert.match(unknownMonitor.body.error, /monitor "no-such-monitor" does not exist/);
    const evaluateUnknown = await rest<{ error: string }>(monitoring.baseUrl, 'POST', '/v1/monitors/no-such-monitor/evaluate');
    assert.equal(evaluateUnknown.status, 404);
    const badWindow = await rest<{ error: string }>(monitoring.baseUrl, 'PUT', '/v1/monitors/bad', { modelName: model, window: { kind: 'time', size: 'soon' }, drift: {} });
    assert.equal(badWindow.status, 400);
    assert.match(badWindow.body.error, /^window\.size: expected a duration/);
    const badMetric = await rest<{ error: string }>(monitoring.baseUrl, 'PUT', '/v1/monitors/bad', {
      modelName: model,
      window: { kind: 'count', size: 100 },
      performance: { metric: 'accuracyy', threshold: 0.5, targetName: 'delayed' },
    });
    assert.equal(badMetric.status, 400);
    assert.match(badMetric.body.error, /^performance\.metric: /);
    const nothing = await rest<{ error: string }>(monitoring.baseUrl, 'PUT', '/v1/monitors/bad', { modelName: model, window: { kind: 'count', size: 100 } });
    assert.equal(nothing.status, 400);
    assert.match(nothing.body.error, /drift, performance or slo/);
    const unknownField = await rest<{ error: string }>(monitoring.baseUrl, 'PUT', '/v1/monitors/bad', { modelName: model, window: { kind: 'count', size: 100 }, drift: {}, colour: 'red' });
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.body.error, /unknown field\(s\) colour/);
    const noKey = await rest<{ error: string }>(monitoring.baseUrl, 'POST', '/v1/labels', { labels: [{ targetName: 'delayed', value: 1, eventTime: '2026-01-01T00:00:00Z' }] });
    assert.equal(noKey.status, 400);
    assert.match(noKey.body.error, /predictionId or non-empty entityKeys/);
    const badTime = await rest<{ error: string }>(monitoring.baseUrl, 'POST', '/v1/labels', { labels: [{ predictionId: 'x', targetName: 'delayed', value: 1, eventTime: 'yesterday' }] });
    assert.equal(badTime.status, 400);
    assert.match(badTime.body.error, /^labels\.0\.eventTime: expected an ISO-8601 time/);
    const unknownAlert = await rest<{ error: string }>(monitoring.baseUrl, 'POST', '/v1/alerts/00000000-0000-4000-8000-000000000000/dismiss', { actor: 'user:alice', reason: 'noise' });
    assert.equal(unknownAlert.status, 404);
    for (const [action, body] of [['acknowledge', { actor: 'user:alice' }], ['dismiss', { actor: 'user:alice', reason: 'noise' }]] as const) {
      const notAnId = await rest<{ error: string }>(monitoring.baseUrl, 'POST', `/v1/alerts/not-an-alert-id/${action}`, body);
      assert.equal(notAnId.status, 404, `${action} of a malformed id`);
      assert.match(notAnId.body.error, /alert "not-an-alert-id" does not exist/);
    }
    const badActor = await rest<{ error: string }>(monitoring.baseUrl, 'POST', '/v1/alerts/00000000-0000-4000-8000-000000000000/acknowledge', { actor: 'alice' });
    assert.equal(badActor.status, 400);
    assert.match(badActor.body.error, /^actor: expected <kind>:<id>/);
    const badStatus = await rest<{ error: string }>(monitoring.baseUrl, 'GET', '/v1/alerts?status=closed');
    assert.equal(badStatus.status, 400);
    assert.match(badStatus.body.error, /^status: /);
  });
});
