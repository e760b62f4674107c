/**
 * The registry through its public REST API, in-process on the run's real PostgreSQL and Kafka:
 * register a model built with onnx-proto, read its signature back, download it intact, move the
 * champion, ask who held it at a past time, read the history, promote through the gate, and see
 * every event on `loopline.registry.model-versions.v1`. Real: everything (ONNX Runtime included,
 * in its validation worker).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { decodeEvent, type DecodedEvent } from '@loopline/contracts';
import { createTestDatabase, eventually, freePort, testInfra, uniqueName } from '@loopline/testing';
import { linearModel } from './onnx-models';
import { rest, startRegistry, uploadVersion, type RegistryUnderTest } from './registry-harness';

const topic = 'loopline.registry.model-versions.v1';
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('registry REST API', () => {
  let registry: RegistryUnderTest;
  let consumer: Consumer;
  const seen: DecodedEvent[] = [];
  const name = uniqueName('flight-delay').replace(/_/g, '-');
  const alice = { 'x-loopline-actor': 'user:alice' };

  before(async () => {
    const infra = testInfra();
    registry = await startRegistry({
      postgresUrl: await createTestDatabase('registry_e2e'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('registry_e2e')),
      grpcPort: await freePort(),
    });
    const kafka = new Kafka({ clientId: 'registry-e2e', brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
    consumer = kafka.consumer({ groupId: uniqueName('registry_e2e') });
    await consumer.connect();
    // The registry provisions the topic at start; subscribe once it exists.
    const admin = kafka.admin();
    await admin.connect();
    try {
      await eventually(async () => (await admin.listTopics()).includes(topic), { timeoutMs: 20_000, what: `${topic} provisioned` });
    } finally {
      await admin.disconnect();
    }
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.key?.toString() !== name) return; // other specs share the topic
        seen.push(decodeEvent(message, topic));
      },
    });
  });

  after(async () => {
    await consumer?.disconnect();
    await registry?.stop();
  });

  describe('when a model is created', () => {
    it('answers 201 with the model, owned by the actor', async () => {
      const created = await rest(registry.baseUrl, 'POST', '/v1/models', { name, description: 'late departures', tags: { team: 'ops' } }, alice);
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(
        { name: created.body.name, owner: created.body.owner, latestVersion: created.body.latestVersion, aliases: created.body.aliases },
        { name, owner: 'user:alice', latestVersion: 0, aliases: {} },
      );
    });

    it('refuses the same name again with 409', async () => {
      const again = await rest(registry.baseUrl, 'POST', '/v1/models', { name });
      assert.equal(again.status, 409);
      assert.match(String(again.body.error), /already exists/);
    });

    it('refuses an invalid name with 400 naming the rule', async () => {
      const invalid = await rest(registry.baseUrl, 'POST', '/v1/models', { name: 'Flight Delay' });
      assert.equal(invalid.status, 400);
      assert.match(String(invalid.body.error), /invalid model name/);
      assert.equal(invalid.body.code, 'VALIDATION');
    });

    it('refuses malformed JSON and unknown fields with 400', async () => {
      const malformed = await fetch(`${registry.baseUrl}/v1/models`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name": ' });
      assert.equal(malformed.status, 400);
      assert.equal(typeof ((await malformed.json()) as { error?: unknown }).error, 'string');
      const unknown = await rest(registry.baseUrl, 'PUT', `/v1/models/${name}/promotion-policy`, { thresholds: [{ metric: 'auc', direction: 'HIGHER_IS_BETTER', lowerbound: 0.7 }] });
      assert.equal(unknown.status, 400);
      assert.match(String(unknown.body.error), /Unrecognized key\(s\) in object: 'lowerbound'/);
    });

    it('lists it (eventually: the list is a projection)', async () => {
      const listed = await eventually(async () => {
        const { body } = await rest<{ models: { name: string; latestVersion: number }[] }>(registry.baseUrl, 'GET', '/v1/models');
        const found = body.models.find((model) => model.name === name);
        if (!found) throw new Error(`${name} not listed yet`);
        return found;
      });
      assert.equal(listed.latestVersion, 0);
    });
  });

  describe('when a version is registered', () => {
    const model = linearModel({ weights: [0.5, -0.25, 1.5], bias: 0.1 });
    const profile = {
      rowCount: 1000,
      features: {
        distance: { kind: 'numeric', count: 1000, missing: 0, quantiles: { '0.5': 700, '0.99': 2400 }, histogram: { edges: [0, 500, 1000, 5000], counts: [400, 350, 250] } },
        origin: { kind: 'categorical', count: 1000, frequencies: { SFO: 0.4, JFK: 0.6 } },
      },
    };
    const metadata = {
      description: 'logistic baseline',
      metrics: { auc: 0.72, log_loss: 0.55 },
      params: { c: 1, penalty: 'l2' },
      tags: { candidate: 'true' },
      lineage: {
        trainingRunId: 'run-1',
        pipelineRunId: 'pipe-1',
        experimentName: 'flights',
        trainingSetId: 'a'.repeat(64),
        datasetVersionIds: ['b'.repeat(64)],
        featureViews: [{ viewName: 'route_stats', viewVersion: 3 }],
        trainerName: 'builtin/logistic-regression',
        trainerVersion: '0.1.0',
        codeCommit: 'abc123',
      },
      referenceProfile: profile,
    };

    it('answers 201 with version 1, its signature read from the graph, and its lineage', async () => {
      const registered = await uploadVersion(registry.baseUrl, name, model, metadata, alice);
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const body = registered.body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      assert.equal(body.version, 1);
      assert.equal(body.status, 'READY');
      assert.deepEqual(body.artifact, { sha256: sha256(model), sizeBytes: model.length, uri: `artifact://registry/sha256/${sha256(model)}` });
      assert.deepEqual(body.signature, {
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 3] }],
        outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
      });
      assert.deepEqual(body.metrics, { auc: 0.72, log_loss: 0.55 });
      assert.deepEqual(body.params, { c: '1', penalty: 'l2' });
      assert.deepEqual(body.lineage, metadata.lineage);
      assert.equal(body.registeredBy, 'user:alice');
      assert.match(body.referenceProfile.uri, /^artifact:\/\/registry\/sha256\/[0-9a-f]{64}$/);
    });

    it('registers version 2 next, and returns the same version for a retried Idempotency-Key', async () => {
      const first = await uploadVersion(registry.baseUrl, name, linearModel({ bias: 0.2 }), { metrics: { auc: 0.74, log_loss: 0.5 } }, { 'idempotency-key': 'upload-2' });
      const retry = await uploadVersion(registry.baseUrl, name, linearModel({ bias: 0.2 }), { metrics: { auc: 0.74, log_loss: 0.5 } }, { 'idempotency-key': 'upload-2' });
      assert.deepEqual([first.status, first.body.version, retry.status, retry.body.version], [201, 2, 201, 2]);
    });

    it('serves the version and the list of versions', async () => {
      const one = await rest(registry.baseUrl, 'GET', `/v1/models/${name}/versions/1`);
      assert.equal(one.status, 200);
      assert.equal((one.body.artifact as { sha256: string }).sha256, sha256(model));
      const all = await rest<{ versions: { version: number }[] }>(registry.baseUrl, 'GET', `/v1/models/${name}/versions`);
      assert.deepEqual(all.body.versions.map((version) => version.version), [1, 2]);
      assert.equal((await rest(registry.baseUrl, 'GET', `/v1/models/${name}/versions/9`)).status, 404);
      assert.equal((await rest(registry.baseUrl, 'GET', `/v1/models/${name}/versions/abc`)).status, 400);
    });

    it('downloads the exact bytes with their SHA-256 in a header', async () => {
      const response = await fetch(`${registry.baseUrl}/v1/models/${name}/versions/1/artifact`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/octet-stream');
      assert.equal(response.headers.get('x-loopline-sha256'), sha256(model));
      assert.deepEqual(Buffer.from(await response.arrayBuffer()), model);
    });

    it('stores the reference profile as a JSON artifact', async () => {
      const response = await fetch(`${registry.baseUrl}/v1/models/${name}/versions/1/reference-profile`);
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), profile);
    });

    it('refuses an invalid reference profile with 400 naming the field', async () => {
      const bad = await uploadVersion(registry.baseUrl, name, model, { referenceProfile: { rowCount: 1, features: { x: { kind: 'numeric', count: -1 } } } });
      assert.equal(bad.status, 400);
      assert.match(String(bad.body.error), /referenceProfile\.features\.x\.count/);
    });
  });

  describe('aliases and time travel', () => {
    let beforeChampion: string;
    let betweenMoves: string;

    it('points champion at version 1, then moves it to version 2', async () => {
      beforeChampion = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const first = await rest(registry.baseUrl, 'PUT', `/v1/models/${name}/aliases/champion`, { version: 1, reason: 'first release' }, alice);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.deepEqual(first.body, { name, alias: 'champion', version: 1, previousVersion: null });
      await new Promise((resolve) => setTimeout(resolve, 5));
      betweenMoves = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const moved = await rest(registry.baseUrl, 'PUT', `/v1/models/${name}/aliases/champion`, { version: 2, actor: 'user:bob', reason: 'retrained' });
      assert.deepEqual(moved.body, { name, alias: 'champion', version: 2, previousVersion: 1 });
    });

    it('reads the alias now and at past times from the event history', async () => {
      assert.deepEqual((await rest(registry.baseUrl, 'GET', `/v1/models/${name}/aliases/champion`)).body, { alias: 'champion', version: 2 });
      assert.deepEqual((await rest(registry.baseUrl, 'GET', `/v1/models/${name}/aliases/champion?at=${betweenMoves}`)).body, { alias: 'champion', version: 1 });
      const tooEarly = await rest(registry.baseUrl, 'GET', `/v1/models/${name}/aliases/champion?at=${beforeChampion}`);
      assert.equal(tooEarly.status, 404);
      assert.equal((await rest(registry.baseUrl, 'GET', `/v1/models/${name}/aliases/champion?at=yesterday`)).status, 400);
    });

    it('shows aliases on the model and on the version', async () => {
      const model = await rest(registry.baseUrl, 'GET', `/v1/models/${name}`);
      assert.deepEqual([model.body.latestVersion, model.body.aliases], [2, { champion: 2 }]);
      const version = await rest(registry.baseUrl, 'GET', `/v1/models/${name}/versions/2`);
      assert.deepEqual(version.body.aliases, ['champion']);
    });

    it('refuses to archive a version holding an alias, then archives it once the alias is gone', async () => {
      await rest(registry.baseUrl, 'PUT', `/v1/models/${name}/aliases/challenger`, { version: 1 });
      const refused = await rest(registry.baseUrl, 'POST', `/v1/models/${name}/versions/1/archive`, { reason: 'old' });
      assert.equal(refused.status, 409);
      assert.deepEqual((refused.body.details as { aliases: string[] }).aliases, ['challenger']);
      assert.equal((await rest(registry.baseUrl, 'DELETE', `/v1/models/${name}/aliases/challenger`, { reason: 'done' })).status, 200);
      const archived = await rest(registry.baseUrl, 'POST', `/v1/models/${name}/versions/1/archive`, { reason: 'old' });
      assert.equal(archived.status, 200);
      assert.equal(archived.body.status, 'ARCHIVED');
    });

    it('refuses to alias an archived version with 409', async () => {
      const refused = await rest(registry.baseUrl, 'PUT', `/v1/models/${name}/aliases/shadow`, { version: 1 });
      assert.equal(refused.status, 409);
      assert.match(String(refused.body.error), /archived/);
    });
  });

  describe('promotion through the gate', () => {
    const policy = {
      name: 'champion-gate',
      thresholds: [
        { metric: 'auc', direction: 'HIGHER_IS_BETTER', lowerBound: 0.7, minImprovement: 0.01 },
        { metric: 'log_loss', direction: 'LOWER_IS_BETTER', upperBound: 0.6, maxDegradation: 0.02 },
      ],
    };

    it('sets the policy', async () => {
      const set = await rest(registry.baseUrl, 'PUT', `/v1/models/${name}/promotion-policy`, policy);
      assert.equal(set.status, 200, JSON.stringify(set.body));
      assert.equal(set.body.baselineAlias, 'champion');
    });

    it('refuses a challenger worse than the champion with 409 and the numbers', async () => {
      const worse = await uploadVersion(registry.baseUrl, name, linearModel({ bias: 0.3 }), { metrics: { auc: 0.745, log_loss: 0.5 } });
      assert.equal(worse.body.version, 3);
      const refused = await rest(registry.baseUrl, 'POST', `/v1/models/${name}/versions/3/promote`, {}, alice);
      assert.equal(refused.status, 409);
      assert.match(String(refused.body.error), /refused by policy champion-gate: auc >= champion\.auc \+ 0\.01 \(candidate 0\.745, threshold 0\.75/);
      const evidence = (refused.body.details as { evidence: { passed: boolean; baselineVersion: number; checks: { kind: string; passed: boolean; candidateValue: number; baselineValue: number }[] } }).evidence;
      assert.equal(evidence.passed, false);
      assert.equal(evidence.baselineVersion, 2);
      const improvement = evidence.checks.find((check) => check.kind === 'MIN_IMPROVEMENT');
      assert.deepEqual([improvement?.passed, improvement?.candidateValue, improvement?.baselineValue], [false, 0.745, 0.74]);
      assert.equal((await rest(registry.baseUrl, 'GET', `/v1/models/${name}/aliases/champion`)).body.version, 2, 'the champion did not move');
    });

    it('evaluates without recording (dry run)', async () => {
      const before = (await rest<{ events: unknown[] }>(registry.baseUrl, 'GET', `/v1/models/${name}/history`)).body.events.length;
      const evaluated = await rest(registry.baseUrl, 'POST', `/v1/models/${name}/versions/3/evaluate`, {});
      assert.deepEqual([evaluated.status, evaluated.body.passed], [200, false]);
      const afterwards = (await rest<{ events: unknown[] }>(registry.baseUrl, 'GET', `/v1/models/${name}/history`)).body.events.length;
      assert.equal(afterwards, before);
    });

    it('promotes a better challenger, with the evidence on the alias move', async () => {
      await uploadVersion(registry.baseUrl, name, linearModel({ bias: 0.4 }), { metrics: { auc: 0.76, log_loss: 0.51 } });
      const promoted = await rest(registry.baseUrl, 'POST', `/v1/models/${name}/versions/4/promote`, { alias: 'champion' }, alice);
      assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
      assert.deepEqual([promoted.body.version, promoted.body.previousVersion, promoted.body.promoted], [4, 2, true]);
      assert.equal((promoted.body.evidence as { passed: boolean }).passed, true);
      assert.equal((await rest(registry.baseUrl, 'GET', `/v1/models/${name}/aliases/champion`)).body.version, 4);
    });
  });

  describe('history', () => {
    it('lists every event in order with type, time, actor and data', async () => {
      const { body } = await rest<{ events: { position: number; type: string; time: string; actor: string; data: Record<string, unknown> }[] }>(
        registry.baseUrl,
        'GET',
        `/v1/models/${name}/history`,
      );
      assert.deepEqual(
        body.events.map((event) => event.type),
        [
          'RegisteredModelCreated',
          'ModelVersionRegistered',
          'ModelVersionRegistered',
          'ModelVersionAliasSet',
          'ModelVersionAliasSet',
          'ModelVersionAliasSet',
          'ModelVersionAliasRemoved',
          'ModelVersionArchived',
          'PromotionPolicySet',
          'ModelVersionRegistered',
          'PromotionGateEvaluated',
          'ModelVersionRegistered',
          'PromotionGateEvaluated',
          'ModelVersionAliasSet',
        ],
      );
      assert.deepEqual(body.events.map((event) => event.position), body.events.map((_, index) => index + 1));
      const moved = body.events[4]!;
      assert.deepEqual([moved.actor, moved.data.reason, moved.data.previousVersion], ['user:bob', 'retrained', 1]);
      assert.ok(body.events.every((event, index) => index === 0 || event.time >= body.events[index - 1]!.time));
    });
  });

  describe('OpenAPI document', () => {
    it('documents every registry route, the upload as multipart', async () => {
      const document = (await rest<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> }>(registry.baseUrl, 'GET', '/openapi.json')).body;
      const expected: [string, string][] = [
        ['/v1/models', 'post'],
        ['/v1/models', 'get'],
        ['/v1/models/{name}', 'get'],
        ['/v1/models/{name}/history', 'get'],
        ['/v1/models/{name}/promotion-policy', 'put'],
        ['/v1/models/{name}/versions', 'post'],
        ['/v1/models/{name}/versions', 'get'],
        ['/v1/models/{name}/versions/{version}', 'get'],
        ['/v1/models/{name}/versions/{version}/artifact', 'get'],
        ['/v1/models/{name}/versions/{version}/archive', 'post'],
        ['/v1/models/{name}/versions/{version}/promote', 'post'],
        ['/v1/models/{name}/versions/{version}/evaluate', 'post'],
        ['/v1/models/{name}/aliases/{alias}', 'put'],
        ['/v1/models/{name}/aliases/{alias}', 'delete'],
        ['/v1/models/{name}/aliases/{alias}', 'get'],
      ];
      for (const [path, method] of expected) assert.ok(document.paths[path]?.[method], `${method.toUpperCase()} ${path} documented`);
      assert.ok(document.paths['/v1/models/{name}/versions']!.post!.requestBody!.content['multipart/form-data']);
    });
  });

  describe('events on Kafka', () => {
    it('publishes every contract event of the model through the outbox, keyed by model name', async () => {
      const types = await eventually(
        () => {
          const published = seen.map((event) => event.type.replace('loopline.registry.v1.', ''));
          if (published.filter((type) => type === 'ModelVersionAliasSet').length < 4) throw new Error(`only ${published.join(', ')} so far`);
          return published;
        },
        { timeoutMs: 15_000, what: 'registry events on Kafka' },
      );
      for (const type of ['RegisteredModelCreated', 'ModelVersionRegistered', 'ModelVersionAliasSet', 'ModelVersionAliasRemoved', 'ModelVersionArchived']) {
        assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
      }
      const registered = seen.find((event) => event.type === 'loopline.registry.v1.ModelVersionRegistered');
      assert.equal(registered?.key, name);
      assert.equal(registered?.source, '/loopline/registry');
      assert.equal(registered?.subject, `${name}/1`);
      const promotion = seen.filter((event) => event.type === 'loopline.registry.v1.ModelVersionAliasSet').at(-1);
      const message = promotion?.message as { modelVersion: number; gateEvidence?: { passed: boolean; policyName: string } } | undefined;
      assert.deepEqual([message?.modelVersion, message?.gateEvidence?.passed, message?.gateEvidence?.policyName], [4, true, 'champion-gate']);
      assert.equal(new Set(seen.map((event) => event.id)).size, seen.length, 'no duplicate event ids');
    });
  });
  describe('when the metadata part is sent with a JSON content type (curl -F "metadata=…;type=application/json")', () => {
    it('reads it like a plain text part', async () => {
      const other = uniqueName('curl-style').replace(/_/g, '-');
      assert.equal((await rest(registry.baseUrl, 'POST', '/v1/models', { name: other })).status, 201);
      const boundary = 'loopline-test-boundary';
      const model = linearModel({ bias: 0.3 });
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\nContent-Type: application/json\r\n\r\n{"metrics":{"auc":0.71}}\r\n`),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="artifact"; filename="model.onnx"\r\nContent-Type: application/octet-stream\r\n\r\n`),
        model,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const response = await fetch(`${registry.baseUrl}/v1/models/${other}/versions`, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body,
      });
      const registered = (await response.json()) as { version?: number; metrics?: Record<string, number> };
      assert.equal(response.status, 201, JSON.stringify(registered));
      assert.deepEqual([registered.version, registered.metrics], [1, { auc: 0.71 }]);
    });
  });
});
