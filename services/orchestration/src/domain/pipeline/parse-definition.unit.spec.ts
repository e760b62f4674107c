import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { commandStep, environment } from '../../../test/builders';
import { parsePipelineDefinition } from './parse-definition';

function problemsOf(document: unknown): { path: string; message: string }[] {
  const result = parsePipelineDefinition(document, environment);
  return result.ok ? [] : [...result.problems];
}

function assertProblem(document: unknown, path: string, pattern: RegExp): void {
  const problems = problemsOf(document);
  const found = problems.find((problem) => problem.path === path);
  assert.ok(found, `expected a problem at ${path}, got ${JSON.stringify(problems)}`);
  assert.match(found.message, pattern);
}

const train = {
  id: 'train',
  kind: 'train',
  inputs: { trainingSetId: '${{ steps.build.outputs.trainingSetId }}', trainer: 'gbdt', seed: 7 },
};
const build = { id: 'build', kind: 'build_training_set', inputs: { entities: { source: 'flights', versionId: 'v1' }, featureService: 'delays' } };

describe('PipelineDefinition', () => {
  describe('when valid', () => {
    it('normalizes: implicit dependencies from references, a topological order, defaults', () => {
      const result = parsePipelineDefinition({ name: 'p', steps: [train, build] }, environment);
      assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
      assert.deepEqual(
        result.definition.steps.map((step) => step.id),
        ['build', 'train'],
      );
      assert.deepEqual(result.definition.steps[1]!.dependsOn, ['build']);
      assert.equal(result.definition.steps[1]!.cache, true, 'train caches by default');
      assert.equal(result.definition.steps[1]!.retry.limit, 0);
    });

    it('accepts the example pipelines shipped in examples/pipelines', async () => {
      const { readdir, readFile } = await import('node:fs/promises');
      const folder = `${__dirname}/../../../../../examples/pipelines`;
      const files = (await readdir(folder)).filter((file) => file.endsWith('.yaml'));
      assert.ok(files.length >= 3);
      for (const file of files) {
        const result = parsePipelineDefinition(parseYaml(await readFile(`${folder}/${file}`, 'utf8')), environment);
        assert.ok(result.ok, `${file}: ${JSON.stringify(!result.ok && result.problems)}`);
      }
    });
  });

  describe('when invalid', () => {
    it('rejects a cycle, naming its path', () => {
      assertProblem(
        { name: 'p', steps: [commandStep('a', { dependsOn: ['c'] }), commandStep('b', { dependsOn: ['a'] }), commandStep('c', { dependsOn: ['b'] })] },
        'steps[0].dependsOn',
        /not a DAG: cycle a → c → b → a/,
      );
    });

    it('rejects a cycle made by references', () => {
      assertProblem(
        { name: 'p', steps: [commandStep('x', { inputs: { v: '${{ steps.y.outputs.o }}' }, outputs: ['o'] }), commandStep('y', { inputs: { v: '${{ steps.x.outputs.o }}' }, outputs: ['o'] })] },
        'steps[0].dependsOn',
        /cycle x → y → x/,
      );
    });

    it('names the exact place of a reference to an unknown step', () => {
      assertProblem({ name: 'p', steps: [build, { ...train, inputs: { ...train.inputs, trainingSetId: '${{ steps.biuld.outputs.trainingSetId }}' } }] }, 'steps[1].inputs.trainingSetId', /unknown step "biuld"/);
    });

    it('names the exact place of a reference to an unknown output, listing the real ones', () => {
      assertProblem({ name: 'p', steps: [build, { ...train, inputs: { ...train.inputs, trainingSetId: '${{ steps.build.outputs.setId }}' } }] }, 'steps[1].inputs.trainingSetId', /no output "setId"; its outputs: trainingSetId, rowCount/);
    });

    it('rejects a wrong parameter type, literal or referenced', () => {
      assertProblem({ name: 'p', steps: [build, { ...train, inputs: { ...train.inputs, seed: 'seven' } }] }, 'steps[1].inputs.seed', /expected an integer but got a string/);
      assertProblem(
        { name: 'p', params: { seed: { type: 'string' } }, steps: [build, { ...train, inputs: { ...train.inputs, seed: '${{ params.seed }}' } }] },
        'steps[1].inputs.seed',
        /expected an integer but got a string \(from \$\{\{ params.seed \}\}\)/,
      );
      assertProblem({ name: 'p', params: { minAuc: { type: 'number', default: 'high' } }, steps: [commandStep('a')] }, 'params.minAuc.default', /expected a number but got a string/);
    });

    it('rejects an unknown step kind, an unknown input and a missing required input', () => {
      assertProblem({ name: 'p', steps: [{ id: 'a', kind: 'trian' }] }, 'steps[0].kind', /unknown step kind "trian"; expected one of ingest, validate/);
      assertProblem({ name: 'p', steps: [build, { ...train, inputs: { ...train.inputs } }, { id: 'e', kind: 'evaluate', inputs: { modelName: 'm', version: 1, treshold: 3 } }] }, 'steps[2].inputs.treshold', /unknown input "treshold"/);
      assertProblem({ name: 'p', steps: [{ id: 'e', kind: 'evaluate', inputs: { modelName: 'm' } }] }, 'steps[0].inputs.version', /required input/);
    });

    it('rejects unknown parameters, bad expressions and bad durations where they are', () => {
      assertProblem({ name: 'p', steps: [commandStep('a', { when: 'params.nope == 1' })] }, 'steps[0].when', /unknown parameter "nope"/);
      assertProblem({ name: 'p', steps: [commandStep('a', { when: 'a ==' })] }, 'steps[0].when', /invalid expression/);
      assertProblem({ name: 'p', steps: [commandStep('a', { timeout: '10 minutes' })] }, 'steps[0].timeout', /not a duration/);
      assertProblem({ name: 'p', steps: [commandStep('a', { retries: { limit: 2, backof: '1s' } })] }, 'steps[0].retries.backof', /unknown field/);
    });

    it('checks event triggers against the topic registry and their filters against the event fields', () => {
      const steps = [commandStep('a')];
      assertProblem({ name: 'p', steps, triggers: [{ event: 'loopline.monitoring.v1.DriftDetectd' }] }, 'triggers[0].event', /unknown event type/);
      assertProblem({ name: 'p', steps, triggers: [{ event: 'DriftDetected', where: 'model == "x"' }] }, 'triggers[0].where', /no field "model"; its fields: alertId, modelName/);
      assertProblem({ name: 'p', steps, triggers: [{ schedule: '0 3 * * *', timezone: 'Mars/Olympus' }] }, 'triggers[0].timezone', /./);
      assertProblem({ name: 'p', steps, triggers: [{ schedule: '61 * * * *' }] }, 'triggers[0].schedule', /./);
      const ok = parsePipelineDefinition(
        { name: 'p', params: { dataset: 'string' }, steps, triggers: [{ event: 'DatasetVersionCreated', where: 'sourceName == "flights" && rowCount > 0', params: { dataset: '${{ event.datasetVersionId }}' }, concurrency: 'queue', debounce: '1m' }] },
        environment,
      );
      assert.ok(ok.ok, JSON.stringify(!ok.ok && ok.problems));
      assert.equal(ok.definition.triggers[0]!.eventType, 'loopline.ingestion.v1.DatasetVersionCreated');
      assert.equal(ok.definition.triggers[0]!.topic, 'loopline.ingestion.dataset-versions.v1');
      assert.equal(ok.definition.triggers[0]!.debounceMs, 60_000);
    });

    it('reports every problem at once', () => {
      const problems = problemsOf({ name: 'Bad Name', steps: [{ id: 'a', kind: 'nope' }, { id: 'a', kind: 'command' }, { id: 'b', kind: 'command' }], extra: 1 });
      assert.deepEqual(problems.map((problem) => problem.path).sort(), ['extra', 'name', 'steps[0].kind', 'steps[1].id', 'steps[2].command'].sort());
    });
  });
});
