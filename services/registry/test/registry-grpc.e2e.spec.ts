/**
 * `loopline.registry.v1.ModelRegistry` over gRPC with a client generated at run time from
 * registry_service.proto, against the registry in-process on the run's real Postgres and Kafka:
 * client-streaming upload, server-streaming download, aliases with time travel, the gate's
 * FAILED_PRECONDITION with its evidence in trailing metadata, and history.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status, type ServiceError } from '@grpc/grpc-js';
import { createTestDatabase, freePort, testInfra, uniqueName } from '@loopline/testing';
import { linearModel, nestedExternalDataModel } from './onnx-models';
import { actorMetadata, downloadOverGrpc, grpcClient, startRegistry, unary, uploadOverGrpc, type ModelRegistryClient, type RegistryUnderTest } from './registry-harness';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface VersionMessage {
  modelName: string;
  modelVersion: number;
  artifact: { sha256: string; sizeBytes: string; uri: string; format: string };
  signature: { inputs: { name: string; datatype: string; shape: string[] }[]; outputs: { name: string; datatype: string; shape: string[] }[] };
  status: string;
  lineage: { trainingRunId: string; codeCommit: string; params: Record<string, string> };
  aliases: string[];
}

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  assert.fail('expected the call to fail');
}

describe('registry gRPC API', () => {
  let registry: RegistryUnderTest;
  let client: ModelRegistryClient;
  const name = uniqueName('grpc-model').replace(/_/g, '-');
  const model = linearModel({ weights: [1, 2, 3, 4] });

  before(async () => {
    const infra = testInfra();
    registry = await startRegistry({
      postgresUrl: await createTestDatabase('registry_grpc'),
      kafkaBrokers: infra.kafkaBrokers,
      dataDir: join(infra.dataDir, uniqueName('registry_grpc')),
      grpcPort: await freePort(),
    });
    client = grpcClient(registry.grpcAddress);
  });

  after(async () => {
    client?.close();
    await registry?.stop();
  });

  it('creates a model, with the actor from request metadata', async () => {
    const response = await unary<{ model: { name: string; owner: string; latestVersion: number } }>(client, 'CreateRegisteredModel', { name, description: 'grpc' }, actorMetadata('service:training'));
    assert.deepEqual([response.model.name, response.model.owner, response.model.latestVersion], [name, 'service:training', 0]);
  });

  it('maps an invalid name to INVALID_ARGUMENT and a duplicate to FAILED_PRECONDITION', async () => {
    assert.equal((await rejection(unary(client, 'CreateRegisteredModel', { name: '../x' }))).code, status.INVALID_ARGUMENT);
    assert.equal((await rejection(unary(client, 'CreateRegisteredModel', { name }))).code, status.FAILED_PRECONDITION);
    assert.equal((await rejection(unary(client, 'GetRegisteredModel', { name: 'nothing-here' }))).code, status.NOT_FOUND);
  });

  it('registers a version by client streaming, in small chunks', async () => {
    const response = await uploadOverGrpc<{ modelVersion: VersionMessage }>(
      client,
      { modelName: name, metrics: { auc: 0.8 }, params: { epochs: '3' }, lineage: { trainingRunId: 'run-9', codeCommit: 'deadbeef' }, requestId: 'grpc-upload-1' },
      model,
      { chunkBytes: 50 },
    );
    const version = response.modelVersion;
    assert.equal(version.modelVersion, 1);
    assert.deepEqual([version.artifact.sha256, version.artifact.sizeBytes, version.artifact.format], [sha256(model), String(model.length), 'MODEL_FORMAT_ONNX']);
    assert.deepEqual(version.signature.inputs, [{ name: 'features', datatype: 'FP32', shape: ['-1', '4'] }]);
    assert.deepEqual([version.status, version.lineage.trainingRunId, version.lineage.codeCommit, version.lineage.params], ['MODEL_VERSION_STATUS_READY', 'run-9', 'deadbeef', { epochs: '3' }]);
  });

  it('returns the first registration for a retried request id', async () => {
    const again = await uploadOverGrpc<{ modelVersion: VersionMessage }>(client, { modelName: name, requestId: 'grpc-upload-1' }, model);
    assert.equal(again.modelVersion.modelVersion, 1);
  });

  it('refuses an upload with external data with INVALID_ARGUMENT saying why', async () => {
    const error = await rejection(uploadOverGrpc(client, { modelName: name }, nestedExternalDataModel('../../secret.bin')));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /external file "\.\.\/\.\.\/secret\.bin"/);
  });

  it('refuses a stream whose first message is not the metadata', async () => {
    const method = client.RegisterModelVersion as (callback: (error: ServiceError | null) => void) => { write(message: unknown): void; end(): void };
    const error = await new Promise<ServiceError | null>((resolve) => {
      const call = method.call(client, (failure) => resolve(failure));
      call.write({ chunk: model });
      call.end();
    });
    assert.equal(error?.code, status.INVALID_ARGUMENT);
    assert.match(error?.details ?? '', /first RegisterModelVersion message must carry `metadata`/);
  });

  it('downloads by server streaming: the artifact description, then the exact bytes', async () => {
    const { artifact, bytes, error } = await downloadOverGrpc(client, { modelName: name, modelVersion: 1 });
    assert.equal(error, undefined);
    assert.equal(artifact?.sha256, sha256(model));
    assert.deepEqual(bytes, model);
    const missing = await downloadOverGrpc(client, { modelName: name, modelVersion: 7 });
    assert.equal(missing.error?.code, status.NOT_FOUND);
  });

  it('sets, resolves (now and at a past time) and deletes aliases', async () => {
    await uploadOverGrpc(client, { modelName: name, metrics: { auc: 0.7 } }, linearModel({ weights: [4, 3, 2, 1] }));
    const first = await unary<{ modelVersion: number; previousModelVersion: number }>(client, 'SetModelVersionAlias', { modelName: name, alias: 'champion', modelVersion: 1, reason: 'go' });
    assert.deepEqual([first.modelVersion, first.previousModelVersion], [1, 0]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const between = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await unary(client, 'SetModelVersionAlias', { modelName: name, alias: 'champion', modelVersion: 2 });
    const now = await unary<{ modelVersion: number }>(client, 'ResolveModelVersionAlias', { modelName: name, alias: 'champion' });
    const then = await unary<{ modelVersion: number }>(client, 'ResolveModelVersionAlias', {
      modelName: name,
      alias: 'champion',
      at: { seconds: String(Math.floor(between / 1000)), nanos: (between % 1000) * 1_000_000 },
    });
    assert.deepEqual([now.modelVersion, then.modelVersion], [2, 1]);
    await unary(client, 'SetModelVersionAlias', { modelName: name, alias: 'challenger', modelVersion: 1 });
    const removed = await unary<{ modelVersion: number }>(client, 'DeleteModelVersionAlias', { modelName: name, alias: 'challenger' });
    assert.equal(removed.modelVersion, 1);
    assert.equal((await rejection(unary(client, 'ResolveModelVersionAlias', { modelName: name, alias: 'challenger' }))).code, status.NOT_FOUND);
  });

  it('refuses a worse challenger with FAILED_PRECONDITION and the evidence in trailing metadata', async () => {
    await unary(client, 'SetPromotionPolicy', {
      modelName: name,
      policy: { name: 'grpc-gate', thresholds: [{ metricName: 'auc', direction: 'GATE_METRIC_DIRECTION_HIGHER_IS_BETTER', maxDegradation: 0.05 }] },
    });
    const policy = await unary<{ policy: { thresholds: { lowerBound?: number; maxDegradation?: number }[] } }>(client, 'GetPromotionPolicy', { modelName: name });
    assert.equal(policy.policy.thresholds[0]?.maxDegradation, 0.05);
    assert.equal(policy.policy.thresholds[0]?.lowerBound ?? null, null, 'an unset bound stays unset');

    await uploadOverGrpc(client, { modelName: name, metrics: { auc: 0.6 } }, linearModel({ bias: 3 }));
    const error = await rejection(unary(client, 'PromoteModelVersion', { modelName: name, modelVersion: 3 }));
    assert.equal(error.code, status.FAILED_PRECONDITION);
    assert.match(error.details, /refused by policy grpc-gate/);
    const details = JSON.parse(String(error.metadata.get('loopline-error-details')[0])) as { evidence: { passed: boolean; baselineVersion: number; checks: { threshold: number }[] } };
    assert.deepEqual([details.evidence.passed, details.evidence.baselineVersion], [false, 2]);
    assert.ok(Math.abs(details.evidence.checks[0]!.threshold - 0.65) < 1e-9);

    const dryRun = await unary<{ evidence: { passed: boolean; checks: { candidateValue: number; baselineValue: number }[] } }>(client, 'EvaluatePromotion', { modelName: name, modelVersion: 1 });
    assert.deepEqual([dryRun.evidence.passed, dryRun.evidence.checks[0]?.candidateValue, dryRun.evidence.checks[0]?.baselineValue], [true, 0.8, 0.7]);
    const promoted = await unary<{ modelVersion: number; previousModelVersion: number; evidence: { passed: boolean } }>(client, 'PromoteModelVersion', { modelName: name, modelVersion: 1, reason: 'rollback to the better one' });
    assert.deepEqual([promoted.modelVersion, promoted.previousModelVersion, promoted.evidence.passed], [1, 2, true]);
  });

  it('archives, lists and reads the history', async () => {
    const archived = await unary<{ modelVersion: VersionMessage }>(client, 'ArchiveModelVersion', { modelName: name, modelVersion: 3, reason: 'worse' });
    assert.equal(archived.modelVersion.status, 'MODEL_VERSION_STATUS_ARCHIVED');
    const versions = await unary<{ modelVersions: VersionMessage[] }>(client, 'ListModelVersions', { modelName: name });
    assert.deepEqual(versions.modelVersions.map((version) => [version.modelVersion, version.aliases]), [[1, ['champion']], [2, []], [3, []]]);
    const history = await unary<{ events: { position: string; type: string; actor: string; dataJson: string }[] }>(client, 'GetModelHistory', { modelName: name });
    assert.equal(history.events[0]?.type, 'RegisteredModelCreated');
    assert.equal(history.events[0]?.actor, 'service:training');
    assert.equal(history.events.at(-1)?.type, 'ModelVersionArchived');
    assert.equal((JSON.parse(history.events.at(-1)!.dataJson) as { reason: string }).reason, 'worse');
  });
});
