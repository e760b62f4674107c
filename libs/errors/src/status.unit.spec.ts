import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConcurrencyError, IllegalStateError, IntegrityError, NotFoundError, UnavailableError, ValidationError } from './errors';
import { grpcStatusOf, httpStatusOf, isRetryable } from './status';

describe('error vocabulary', () => {
  const cases = [
    { error: new ValidationError('bad'), http: 400, grpc: 3, retryable: false },
    { error: new NotFoundError('gone'), http: 404, grpc: 5, retryable: false },
    { error: new IllegalStateError('archived'), http: 409, grpc: 9, retryable: false },
    { error: new ConcurrencyError('raced'), http: 409, grpc: 10, retryable: true },
    { error: new UnavailableError('down'), http: 503, grpc: 14, retryable: true },
    { error: new IntegrityError('damaged'), http: 500, grpc: 15, retryable: false },
  ];
  for (const { error, http, grpc, retryable } of cases) {
    it(`maps ${error.name} to HTTP ${http}, gRPC ${grpc}${retryable ? ', retryable' : ''}`, () => {
      assert.equal(httpStatusOf(error.code), http);
      assert.equal(grpcStatusOf(error.code), grpc);
      assert.equal(isRetryable(error.code), retryable);
      assert.equal(error.name, error.constructor.name);
    });
  }
});
