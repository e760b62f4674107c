import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from './load-config';
import { loadPlatformConfig } from './platform-config';
import { loadServiceConfig } from './service-config';

describe('service configuration', () => {
  it('uses the documented default ports', () => {
    const config = loadServiceConfig('feature-store', {});
    assert.equal(config.httpPort, 7002);
    assert.equal(config.grpcPort, 7502);
    assert.equal(config.host, '127.0.0.1');
  });

  it('reads ports from the service prefix', () => {
    const config = loadServiceConfig('feature-store', { LOOPLINE_FEATURE_STORE_HTTP_PORT: '9002' });
    assert.equal(config.httpPort, 9002);
  });

  it('lists every invalid key at once', () => {
    const error = captureConfigError(() =>
      loadServiceConfig('registry', {
        LOOPLINE_REGISTRY_HTTP_PORT: 'abc',
        LOOPLINE_KAFKA_BROKERS: 'no port here',
        LOOPLINE_LOG_LEVEL: 'loud',
      }),
    );
    assert.deepEqual(
      error.problems.map((problem) => problem.split(':')[0]),
      ['LOOPLINE_REGISTRY_HTTP_PORT', 'LOOPLINE_KAFKA_BROKERS', 'LOOPLINE_LOG_LEVEL'],
    );
  });
});

describe('platform configuration', () => {
  it('rejects a port out of range naming the key', () => {
    const error = captureConfigError(() => loadPlatformConfig({ LOOPLINE_KAFKA_PORT: '70000' }));
    assert.match(error.message, /LOOPLINE_KAFKA_PORT/);
  });
});

function captureConfigError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a ConfigError');
}
