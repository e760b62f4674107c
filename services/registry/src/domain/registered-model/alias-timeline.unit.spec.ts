import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aliasVersionAt } from './alias-timeline';
import type { RegisteredModelEvent } from './registered-model';

const set = (alias: string, version: number, setAt: string): RegisteredModelEvent => ({
  type: 'ModelVersionAliasSet',
  data: { modelName: 'm', alias, version, previousVersion: null, actor: 'user:a', reason: '', evidence: null, setAt },
});
const removed = (alias: string, version: number, removedAt: string): RegisteredModelEvent => ({
  type: 'ModelVersionAliasRemoved',
  data: { modelName: 'm', alias, version, actor: 'user:a', reason: '', removedAt },
});

const history = [
  set('champion', 1, '2026-01-01T00:00:00.000Z'),
  set('challenger', 2, '2026-01-02T00:00:00.000Z'),
  set('champion', 2, '2026-01-03T00:00:00.000Z'),
  removed('challenger', 2, '2026-01-03T00:00:00.000Z'),
  removed('champion', 2, '2026-01-05T00:00:00.000Z'),
];

describe('alias timeline', () => {
  it('answers which version held an alias at a time', () => {
    assert.equal(aliasVersionAt(history, 'champion', new Date('2025-12-31T23:59:59.999Z')), null);
    assert.equal(aliasVersionAt(history, 'champion', new Date('2026-01-01T00:00:00.000Z')), 1);
    assert.equal(aliasVersionAt(history, 'champion', new Date('2026-01-02T12:00:00.000Z')), 1);
    assert.equal(aliasVersionAt(history, 'champion', new Date('2026-01-04T00:00:00.000Z')), 2);
    assert.equal(aliasVersionAt(history, 'champion', new Date('2026-01-06T00:00:00.000Z')), null);
  });

  it('keeps aliases apart', () => {
    assert.equal(aliasVersionAt(history, 'challenger', new Date('2026-01-02T12:00:00.000Z')), 2);
    assert.equal(aliasVersionAt(history, 'challenger', new Date('2026-01-04T00:00:00.000Z')), null);
    assert.equal(aliasVersionAt(history, 'shadow', new Date('2026-01-04T00:00:00.000Z')), null);
  });
});
