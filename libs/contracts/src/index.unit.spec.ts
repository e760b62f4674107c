import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadSync } from '@grpc/proto-loader';
import * as contracts from './index';

describe('@loopline/contracts', () => {
  it('exposes the generated schemas, the registry and the codec from one entry point', () => {
    assert.equal(contracts.ModelVersionRegisteredSchema.typeName, 'loopline.registry.v1.ModelVersionRegistered');
    assert.equal(contracts.HealthCheckResponse_ServingStatus.SERVING, 1);
    assert.equal(typeof contracts.encodeEvent, 'function');
    assert.equal(contracts.findTopic('loopline.monitoring.alerts.v1')?.owner, 'monitoring');
  });

  it('points protoRoot at proto/, where @grpc/proto-loader finds the health protocol', () => {
    assert.ok(existsSync(path.join(contracts.protoRoot, 'buf.yaml')));
    const definition = loadSync('grpc/health/v1/health.proto', { includeDirs: [contracts.protoRoot] });
    assert.ok('grpc.health.v1.Health' in definition);
  });
});
