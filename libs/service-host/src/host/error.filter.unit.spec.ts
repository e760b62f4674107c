import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadRequestException, ServiceUnavailableException } from '@nestjs/common';
import { IllegalStateError, ValidationError } from '@loopline/errors';
import { httpErrorOf } from './error.filter';

describe('httpErrorOf', () => {
  it('maps the error vocabulary to its status with message, code and details', () => {
    assert.deepEqual(httpErrorOf(new ValidationError('name is too long', { field: 'name' })), {
      status: 400,
      body: { error: 'name is too long', code: 'VALIDATION', details: { field: 'name' } },
    });
    assert.equal(httpErrorOf(new IllegalStateError('archived')).status, 409);
  });

  it('keeps a body a handler built itself, such as a readiness report', () => {
    const report = { status: 'not_ready', checks: [{ name: 'postgres', ok: false, detail: 'down' }] };
    assert.deepEqual(httpErrorOf(new ServiceUnavailableException(report)), { status: 503, body: report });
  });

  it("gives Nest's own exceptions the common shape", () => {
    assert.deepEqual(httpErrorOf(new BadRequestException('bad query')), { status: 400, body: { error: 'bad query', code: 'HTTP' } });
  });

  it('keeps the status of framework 4xx errors such as an oversized body', () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413 });
    assert.deepEqual(httpErrorOf(tooLarge), { status: 413, body: { error: 'Request body is too large', code: 'HTTP' } });
  });

  it('withholds the message of anything unexpected', () => {
    assert.deepEqual(httpErrorOf(new TypeError('secret internals')), { status: 500, body: { error: 'internal error', code: 'INTERNAL' } });
  });
});
