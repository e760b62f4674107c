import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '@loopline/errors';
import type { Materializer } from './materialization';
import { PipelineTasks } from './pipeline-tasks';
import type { TrainingSets } from './training-sets';

// Params are checked before anything runs: the dependencies fail the test if they are reached.
const unreachable = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error('a task with bad params reached the application layer');
    },
  },
);
const tasks = new PipelineTasks({ materializer: unreachable as Materializer, trainingSets: unreachable as TrainingSets });

function rejects(run: () => Promise<unknown>, message: RegExp): Promise<void> {
  return assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof ValidationError, String(error));
    assert.match(error.message, message);
    return true;
  });
}

describe('PipelineTasks', () => {
  describe('when materialize gets bad params', () => {
    it('names a missing, a mistyped and an unknown input', async () => {
      await rejects(() => tasks.materialize({}), /^materialize: params\.view: Required$/);
      await rejects(() => tasks.materialize({ view: 'v', version: 0 }), /^materialize: params\.version: /);
      await rejects(() => tasks.materialize({ view: 'v', viewName: 'v' }), /^materialize: params: unknown input\(s\) viewName$/);
      await rejects(() => tasks.materialize({ view: 'v', datasetVersionId: '' }), /^materialize: params\.datasetVersionId: /);
    });
  });

  describe('when build_training_set gets bad params', () => {
    it('names the bad field inside entities and datasetVersions', async () => {
      await rejects(() => tasks.buildTrainingSet({ features: ['v:f'] }), /^build_training_set: params\.entities: Required$/);
      await rejects(() => tasks.buildTrainingSet({ entities: { source: 's' }, features: ['v:f'] }), /^build_training_set: params\.entities\.versionId: Required$/);
      await rejects(() => tasks.buildTrainingSet({ entities: { source: 's', versionId: 'all', table: 'x' } }), /^build_training_set: params\.entities: unknown input\(s\) table$/);
      await rejects(() => tasks.buildTrainingSet({ entities: { source: 's', versionId: 'v' }, datasetVersions: { trips: 3 } }), /^build_training_set: params\.datasetVersions\.trips: /);
    });
  });
});
