import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StepKind } from '@loopline/contracts';
import { IllegalStateError, NotFoundError, UnavailableError, ValidationError } from '@loopline/errors';
import { classifyTaskError, LogsTail, TaskFailure } from './task-failure';
import { stepKindOfTask, taskKindOf } from './task-kinds';

describe('classifyTaskError', () => {
  it('keeps the code and retryability of a TaskFailure', () => {
    assert.deepEqual(classifyTaskError(new TaskFailure('SOURCE_NOT_FOUND', 'no source "x"', { retryable: false })), { code: 'SOURCE_NOT_FOUND', message: 'no source "x"', retryable: false, logsUri: '' });
  });

  it('fails requests that can never work for good and lets transient failures be retried', () => {
    assert.deepEqual(classifyTaskError(new ValidationError('format: bad')), { code: 'INVALID_REQUEST', message: 'format: bad', retryable: false });
    assert.equal(classifyTaskError(new NotFoundError('gone')).retryable, false);
    assert.equal(classifyTaskError(new IllegalStateError('archived')).code, 'ILLEGAL_STATE');
    assert.deepEqual(classifyTaskError(new UnavailableError('db down')), { code: 'UNAVAILABLE', message: 'db down', retryable: true });
    assert.deepEqual(classifyTaskError(new Error('socket hang up')), { code: 'EXECUTOR_ERROR', message: 'socket hang up', retryable: true });
  });
});

describe('LogsTail', () => {
  it('keeps the last lines within the budget', () => {
    const tail = new LogsTail(10);
    for (const line of ['one', 'two', 'three', 'four']) tail.append(line);
    assert.equal(tail.toString(), 'four\n');
    const roomy = new LogsTail(100);
    roomy.append('a');
    roomy.append('b\n');
    assert.equal(roomy.toString(), 'a\nb\n');
  });

  it('keeps the end of a line longer than the budget', () => {
    const tail = new LogsTail(4);
    tail.append('abcdefgh');
    assert.equal(tail.toString(), 'fgh\n');
  });
});

describe('task kinds', () => {
  it('maps contract step kinds to catalog names and back', () => {
    assert.equal(taskKindOf(StepKind.INGEST_DATASET), 'ingest');
    assert.equal(taskKindOf(StepKind.UNSPECIFIED), undefined);
    assert.equal(stepKindOfTask('validate'), StepKind.VALIDATE_DATASET);
  });
});
