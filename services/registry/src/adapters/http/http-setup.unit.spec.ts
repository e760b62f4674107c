import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { unsafePathReason } from './http-setup';

describe('unsafePathReason', () => {
  it('accepts the API paths names can form, with any query string', () => {
    for (const path of ['/v1/models', '/v1/models/', '/v1/models/flight-delay.v2_a/versions/12/artifact', '/v1/models/m/aliases/champion?at=2026-01-01T00:00:00.000Z%2B01:00']) {
      assert.equal(unsafePathReason(path), undefined, path);
    }
  });

  it('ignores paths outside /v1 (health, metrics, OpenAPI belong to the host)', () => {
    assert.equal(unsafePathReason('/health/ready'), undefined);
    assert.equal(unsafePathReason('/openapi.json'), undefined);
  });

  for (const path of [
    '/v1/models/../x',
    '/v1/models/./x',
    '/v1/models/%2e%2e/x',
    '/v1/models/..%2fx',
    '/v1/models/%252e%252e%252f',
    '/v1/models/a%00b',
    '/v1/models/..\\x',
    '/v1/models/a%5cb',
    '/v1/models/\u2024\u2024/x',
    '/v1/models/a b',
    '/v1/models//x',
  ]) {
    it(`refuses ${JSON.stringify(path)}`, () => {
      assert.match(unsafePathReason(path) ?? '', /URL path contains/);
    });
  }
});
