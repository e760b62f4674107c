/**
 * A drift monitor on shifted data raises DriftDetected with its evidence on Kafka, and resolves it
 * after recovery. Real: the monitoring service (in-process), the registry (child process, a real
 * ONNX model trained with @loopline/ml and registered with a training set in its lineage), Kafka,
 * PostgreSQL, chDB. Stood in for: the feature store's training-set download route (a real HTTP
 * server serving a real Parquet file).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { categoricalColumn, createDataset, numericColumn, trainAndEvaluate } from '@loopline/ml';
import { decodeEvent, type DecodedEvent } from '@loopline/contracts';
import { eventually, testInfra, uniqueName } from '@loopline/testing';
import type { Consumer } from 'kafkajs';
import { alertsTopic, kafkaForTests, makeParquet, monitoringEnv, predictionMessage, rest, startMonitoring, startRegistryProcess, startTrainingSetServer, type MonitoringUnderTest } from './harness';

describe('MonitoringService drift alerts', () => {
  let monitoring: MonitoringUnderTest;
  let registry: Awaited<ReturnType<typeof startRegistryProcess>>;
  let trainingSets: Awaited<ReturnType<typeof startTrainingSetServer>>;
  let kafka: Awaited<ReturnType<typeof kafkaForTests>>;
  let consumer: Consumer;
  const seen: DecodedEvent[] = [];
  const model = uniqueName('drift-model').replace(/_/g, '-');
  const dataDir = join(testInfra().dataDir, uniqueName('monitoring_drift'));

  before(async () => {
    mkdirSync(dataDir, { recursive: true });
    kafka = await kafkaForTests();
    consumer = kafka.kafka.consumer({ groupId: uniqueName('drift_alerts') });
    await consumer.connect();
    await consumer.subscribe({ topic: alertsTopic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(decodeEvent(message, alertsTopic)) });

    // Training rows: distance uniform over 0..999, origin over four airports.
    const rows = 2_000;
    const distance = Array.from({ length: rows }, (_, i) => (i * 7919) % 1000);
    const origin = Array.from({ length: rows }, (_, i) => ['ATL', 'ORD', 'SFO', 'JFK'][i % 4]!);
    const delayed = distance.map((d, i) => (d > 500 === (i % 5 !== 0) ? 1 : 0));
    const outcome = trainAndEvaluate({
      dataset: createDataset([
        ['distance', numericColumn(distance)],
        ['origin', categoricalColumn(origin)],
        ['delayed', numericColumn(delayed)],
      ]),
      label: 'delayed',
      features: ['distance', 'origin'],
      split: { kind: 'random', holdoutFraction: 0.2, seed: 1 },
      trainer: 'logistic-regression',
      params: {},
      seed: 1,
    });
    const parquet = join(dataDir, 'training-set.parquet');
    makeParquet(parquet, `SELECT toFloat64((number * 7919) % 1000) AS distance, ['ATL','ORD','SFO','JFK'][(number % 4) + 1] AS origin FROM numbers(${rows})`, join(dataDir, 'make-parquet'));
    trainingSets = await startTrainingSetServer(new Map([['ts-drift', parquet]]));
    registry = await startRegistryProcess(join(dataDir, 'registry'));
    assert.equal((await rest(registry.url, 'POST', '/v1/models', { name: model })).status, 201);
    const form = new FormData();
    form.append('artifact', new Blob([Buffer.from(outcome.onnx)]), 'model.onnx');
    form.append('metadata', JSON.stringify({ metrics: outcome.metrics, lineage: { trainingSetId: 'ts-drift' }, referenceProfile: outcome.profile }));
    const registered = await fetch(`${registry.url}/v1/models/${model}/versions`, { method: 'POST', body: form });
    assert.equal(registered.status, 201, await registered.text());

    monitoring = await startMonitoring(
      await monitoringEnv(join(dataDir, 'monitoring'), { LOOPLINE_REGISTRY_URL: registry.url, LOOPLINE_FEATURE_STORE_URL: trainingSets.url, LOOPLINE_MONITORING_DEFAULT_MONITORS: 'false' }),
    );
  });

  after(async () => {
    await monitoring?.stop();
    await consumer?.disconnect();
    await kafka?.close();
    await registry?.stop();
    await trainingSets?.close();
  });

  async function publishWindow(shift: number, offset: number): Promise<void> {
    const now = Date.now();
    const messages = Array.from({ length: 300 }, (_, i) =>
      predictionMessage({
        modelName: model,
        modelVersion: 1,
        inputs: { distance: [((offset + i) * 7919) % 1000 + shift], origin: [shift > 0 ? 'LAX' : ['ATL', 'ORD', 'SFO', 'JFK'][i % 4]!] },
        outputs: { label: [1], probabilities: [[0.4, 0.6]] },
        predictedAtMs: now - 300 + i,
      }).message,
    );
    await kafka.producer.publish(messages);
    await eventually(
      async () => {
        const stats = await rest<{ predictions: number }>(monitoring.baseUrl, 'GET', `/v1/models/${model}/stats`);
        return stats.body.predictions >= offset + 300;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `${offset + 300} predictions stored` },
    );
  }

  it('raises DriftDetected with evidence on shifted data, announces it again while it lasts, and resolves it after recovery', async () => {
    const monitorName = `${model}-inputs`;
    const put = await rest(monitoring.baseUrl, 'PUT', `/v1/monitors/${monitorName}`, { modelName: model, version: 1, window: { kind: 'count', size: 300 }, drift: { predictionDrift: false }, severity: 'critical', repeatAfter: '3s' });
    assert.equal(put.status, 200, JSON.stringify(put.body));

    await publishWindow(0, 0);
    const healthy = await rest<{ evaluation: { drift: { verdict: string; reference: { source: string; rows: number } } } }>(monitoring.baseUrl, 'POST', `/v1/monitors/${monitorName}/evaluate`);
    assert.equal(healthy.status, 200, JSON.stringify(healthy.body));
    assert.equal(healthy.body.evaluation.drift.reference.source, 'training_set');
    assert.equal(healthy.body.evaluation.drift.reference.rows, 2_000);
    assert.equal(healthy.body.evaluation.drift.verdict, 'healthy', JSON.stringify(healthy.body.evaluation.drift));

    await publishWindow(2_000, 300);
    const drifted = await rest<{ evaluation: { drift: { verdict: string } }; alert: { action: string; alertId: string } }>(monitoring.baseUrl, 'POST', `/v1/monitors/${monitorName}/evaluate`);
    assert.equal(drifted.body.evaluation.drift.verdict, 'breached');
    const detected = await eventually(() => seen.find((event) => event.type === 'loopline.monitoring.v1.DriftDetected' && (event.message as { modelName: string }).modelName === model), {
      timeoutMs: 30_000,
      what: 'DriftDetected on Kafka',
    });
    const message = detected!.message as { alertId: string; monitorName: string; severity: number; evidence: { sampleSize: bigint; features: { featureName: string; drifted: boolean; value: number; threshold: number }[]; driftedFeatureShare: number; referenceProfileUri: string } };
    assert.equal(message.monitorName, monitorName);
    assert.equal(message.evidence.sampleSize, 300n);
    assert.equal(message.evidence.driftedFeatureShare, 1);
    assert.deepEqual(message.evidence.features.map((feature) => [feature.featureName, feature.drifted]).sort(), [
      ['distance', true],
      ['origin', true],
    ]);
    assert.match(message.evidence.referenceProfileUri, /training-sets\/ts-drift/);

    // Still drifting after the repeat interval: the same alert is announced again, once per interval.
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    const repeated = await rest<{ alert: { action: string; alertId: string } }>(monitoring.baseUrl, 'POST', `/v1/monitors/${monitorName}/evaluate`);
    assert.deepEqual([repeated.body.alert.action, repeated.body.alert.alertId], ['renotified', message.alertId]);
    const kept = await rest<{ alert: { action: string } }>(monitoring.baseUrl, 'POST', `/v1/monitors/${monitorName}/evaluate`);
    assert.equal(kept.body.alert.action, 'kept_open', 'within the interval nothing is announced');
    await eventually(() => seen.filter((event) => event.type === 'loopline.monitoring.v1.DriftDetected' && (event.message as { alertId: string }).alertId === message.alertId).length === 2, {
      timeoutMs: 30_000,
      what: 'the second DriftDetected of the alert on Kafka',
    });

    await publishWindow(0, 600);
    const recovered = await rest<{ evaluation: { drift: { verdict: string } }; alert: { action: string } }>(monitoring.baseUrl, 'POST', `/v1/monitors/${monitorName}/evaluate`);
    assert.equal(recovered.body.evaluation.drift.verdict, 'healthy');
    const resolved = await eventually(() => seen.find((event) => event.type === 'loopline.monitoring.v1.AlertResolved' && (event.message as { alertId: string }).alertId === message.alertId), {
      timeoutMs: 30_000,
      what: 'AlertResolved on Kafka',
    });
    assert.equal((resolved!.message as { actor: string }).actor, 'service:monitoring');
    const alerts = await rest<{ alerts: { status: string; resolution: string }[] }>(monitoring.baseUrl, 'GET', `/v1/alerts?modelName=${model}`);
    assert.deepEqual(alerts.body.alerts.map((alert) => [alert.status, alert.resolution]), [['resolved', 'recovered']]);
  });
});
