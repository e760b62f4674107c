import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeciderSpecification } from '@loopline/eventsourcing';
import { IllegalStateError, NotFoundError, ValidationError } from '@loopline/errors';
import { registeredModelDecider, type CommandMeta, type RegisterModelVersion } from './registered-model.decide';
import type { GateEvidence, ModelLineage, PromotionPolicy, RegisteredModelEvent } from './registered-model';

const spec = DeciderSpecification.for(registeredModelDecider);
const name = 'flight-delay';
const at = '2026-01-10T12:00:00.000Z';
const meta: CommandMeta = { actor: 'user:alice', at };
const sha = (digit: string) => digit.repeat(64);

const noLineage: ModelLineage = {
  trainingRunId: '',
  pipelineRunId: '',
  experimentName: '',
  trainingSetId: '',
  datasetVersionIds: [],
  featureViews: [],
  trainerName: '',
  trainerVersion: '',
  codeCommit: '',
};
const signature = { inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 3] }], outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }] };

const created: RegisteredModelEvent = {
  type: 'RegisteredModelCreated',
  data: { modelName: name, description: 'late flights', owner: 'team:ops', tags: { team: 'ops' }, actor: 'user:alice', createdAt: at },
};

function registerCommand(overrides: Partial<RegisterModelVersion['data']> = {}): RegisterModelVersion {
  return {
    type: 'RegisterModelVersion',
    data: {
      modelName: name,
      artifact: { sha256: sha('a'), sizeBytes: 120, uri: `artifact://registry/sha256/${sha('a')}` },
      signature,
      metrics: { auc: 0.72, log_loss: 0.55 },
      params: { c: '1.0' },
      tags: {},
      description: '',
      lineage: noLineage,
      referenceProfile: null,
      idempotencyKey: null,
      ...overrides,
    },
    metadata: meta,
  };
}

function registered(version: number, metrics: Record<string, number>, idempotencyKey: string | null = null): RegisteredModelEvent {
  const command = registerCommand({ metrics, idempotencyKey });
  return {
    type: 'ModelVersionRegistered',
    data: { ...command.data, version, actor: meta.actor, registeredAt: at },
  };
}

function aliasSet(alias: string, version: number, previousVersion: number | null, evidence: GateEvidence | null = null, reason = ''): RegisteredModelEvent {
  return { type: 'ModelVersionAliasSet', data: { modelName: name, alias, version, previousVersion, actor: meta.actor, reason, evidence, setAt: at } };
}

const policy: PromotionPolicy = {
  name: 'champion-gate',
  baselineAlias: 'champion',
  thresholds: [
    { metric: 'auc', direction: 'HIGHER_IS_BETTER', lowerBound: 0.7, upperBound: null, minImprovement: 0.01, maxDegradation: null },
    { metric: 'log_loss', direction: 'LOWER_IS_BETTER', lowerBound: null, upperBound: 0.6, minImprovement: null, maxDegradation: 0.02 },
  ],
};
const policySet: RegisteredModelEvent = { type: 'PromotionPolicySet', data: { modelName: name, policy, actor: meta.actor, setAt: at } };

describe('RegisteredModel', () => {
  describe('CreateRegisteredModel', () => {
    const create = (overrides: Partial<{ name: string; owner: string; tags: Record<string, string> }> = {}) => ({
      type: 'CreateRegisteredModel' as const,
      data: { name, description: 'late flights', owner: 'team:ops', tags: { team: 'ops' }, ...overrides },
      metadata: meta,
    });

    it('creates the model', () => {
      spec.given([]).when(create()).then([created]);
    });

    it('makes the actor the owner when none is given', () => {
      spec.given([]).when(create({ owner: '' })).then([{ ...created, data: { ...created.data, owner: 'user:alice' } } as RegisteredModelEvent]);
    });

    it('refuses a model that exists already', () => {
      spec.given([created]).when(create()).thenThrows(IllegalStateError, (error) => assert.match(error.message, /already exists/));
    });

    for (const bad of ['', 'Flight', '../etc', '..', '.hidden', 'a/b', 'a\u0000b', 'caf\u00e9', `a${'b'.repeat(128)}`, '%2e%2e%2f', 'a\u2024b']) {
      it(`refuses the name ${JSON.stringify(bad)}`, () => {
        spec.given([]).when(create({ name: bad })).thenThrows(ValidationError, (error) => assert.match(error.message, /invalid model name/));
      });
    }

    it('refuses a tag key that is not a key', () => {
      spec.given([]).when(create({ tags: { 'has space': 'x' } })).thenThrows(ValidationError, (error) => assert.match(error.message, /tags key/));
    });
  });

  describe('RegisterModelVersion', () => {
    it('registers version 1, then 2', () => {
      spec.given([created]).when(registerCommand()).then([registered(1, { auc: 0.72, log_loss: 0.55 })]);
      spec.given([created, registered(1, { auc: 0.72 })]).when(registerCommand()).then([registered(2, { auc: 0.72, log_loss: 0.55 })]);
    });

    it('registers nothing again for a retried idempotency key', () => {
      spec.given([created, registered(1, { auc: 0.72 }, 'req-1')]).when(registerCommand({ idempotencyKey: 'req-1' })).then([]);
    });

    it('refuses a model that does not exist', () => {
      spec.given([]).when(registerCommand()).thenThrows(NotFoundError, (error) => assert.match(error.message, /no registered model named "flight-delay"/));
    });

    it('refuses a metric that is not finite', () => {
      spec.given([created]).when(registerCommand({ metrics: { auc: Number.NaN } })).thenThrows(ValidationError, (error) => assert.match(error.message, /finite/));
    });

    it('refuses a model without inputs or outputs', () => {
      spec.given([created]).when(registerCommand({ signature: { inputs: [], outputs: signature.outputs } })).thenThrows(ValidationError);
    });

    it('refuses an artifact that is not content-addressed', () => {
      spec.given([created]).when(registerCommand({ artifact: { sha256: 'abc', sizeBytes: 1, uri: 'x' } })).thenThrows(ValidationError, (error) => assert.match(error.message, /sha256/));
    });

    it('refuses lineage with a feature view version that is not a version', () => {
      spec
        .given([created])
        .when(registerCommand({ lineage: { ...noLineage, featureViews: [{ viewName: 'route_stats', viewVersion: 0 }] } }))
        .thenThrows(ValidationError, (error) => assert.match(error.message, /viewVersion/));
    });
  });

  describe('SetModelVersionAlias', () => {
    const setAlias = (alias: string, version: number) => ({ type: 'SetModelVersionAlias' as const, data: { modelName: name, alias, version, reason: 'first release' }, metadata: meta });
    const archived: RegisteredModelEvent = { type: 'ModelVersionArchived', data: { modelName: name, version: 1, actor: meta.actor, reason: '', archivedAt: at } };

    it('points a new alias at a version', () => {
      spec.given([created, registered(1, {})]).when(setAlias('champion', 1)).then([aliasSet('champion', 1, null, null, 'first release')]);
    });

    it('moves an alias, naming the previous version', () => {
      spec.given([created, registered(1, {}), registered(2, {}), aliasSet('champion', 1, null)]).when(setAlias('champion', 2)).then([aliasSet('champion', 2, 1, null, 'first release')]);
    });

    it('does nothing when the alias is already there', () => {
      spec.given([created, registered(1, {}), aliasSet('champion', 1, null)]).when(setAlias('champion', 1)).then([]);
    });

    it('refuses an archived version', () => {
      spec.given([created, registered(1, {}), archived]).when(setAlias('champion', 1)).thenThrows(IllegalStateError, (error) => assert.match(error.message, /archived/));
    });

    it('refuses an unknown version', () => {
      spec.given([created, registered(1, {})]).when(setAlias('champion', 2)).thenThrows(NotFoundError, (error) => assert.match(error.message, /no version 2/));
    });

    it('refuses an unknown model', () => {
      spec.given([]).when(setAlias('champion', 1)).thenThrows(NotFoundError);
    });

    for (const bad of ['Champion', '7', 'latest', '../x', '']) {
      it(`refuses the alias ${JSON.stringify(bad)}`, () => {
        spec.given([created, registered(1, {})]).when(setAlias(bad, 1)).thenThrows(ValidationError);
      });
    }

    it('refuses a version number that is not a positive integer', () => {
      spec.given([created, registered(1, {})]).when(setAlias('champion', 1.5)).thenThrows(ValidationError);
    });
  });

  describe('RemoveModelVersionAlias', () => {
    const remove = (alias: string) => ({ type: 'RemoveModelVersionAlias' as const, data: { modelName: name, alias, reason: 'rollback' }, metadata: meta });

    it('removes an alias', () => {
      spec
        .given([created, registered(1, {}), aliasSet('challenger', 1, null)])
        .when(remove('challenger'))
        .then([{ type: 'ModelVersionAliasRemoved', data: { modelName: name, alias: 'challenger', version: 1, actor: meta.actor, reason: 'rollback', removedAt: at } }]);
    });

    it('refuses an alias that does not exist', () => {
      spec.given([created, registered(1, {})]).when(remove('challenger')).thenThrows(NotFoundError, (error) => assert.match(error.message, /no alias "challenger"/));
    });
  });

  describe('ArchiveModelVersion', () => {
    const archive = (version: number) => ({ type: 'ArchiveModelVersion' as const, data: { modelName: name, version, reason: 'superseded' }, metadata: meta });
    const archived: RegisteredModelEvent = { type: 'ModelVersionArchived', data: { modelName: name, version: 1, actor: meta.actor, reason: 'superseded', archivedAt: at } };

    it('archives a version without aliases', () => {
      spec.given([created, registered(1, {})]).when(archive(1)).then([archived]);
    });

    it('does nothing for a version archived already', () => {
      spec.given([created, registered(1, {}), archived]).when(archive(1)).then([]);
    });

    it('refuses a version that holds an alias, naming it', () => {
      spec
        .given([created, registered(1, {}), aliasSet('champion', 1, null)])
        .when(archive(1))
        .thenThrows(IllegalStateError, (error) => {
          assert.match(error.message, /holds the alias\(es\) champion/);
          assert.deepEqual(error.details.aliases, ['champion']);
        });
    });

    it('refuses an unknown version', () => {
      spec.given([created]).when(archive(1)).thenThrows(NotFoundError);
    });
  });

  describe('SetPromotionPolicy', () => {
    const setPolicy = (value: PromotionPolicy) => ({ type: 'SetPromotionPolicy' as const, data: { modelName: name, policy: value }, metadata: meta });

    it('sets the policy', () => {
      spec.given([created]).when(setPolicy(policy)).then([policySet]);
    });

    it('does nothing when the same policy is set again', () => {
      spec.given([created, policySet]).when(setPolicy(policy)).then([]);
    });

    it('refuses a policy without thresholds', () => {
      spec.given([created]).when(setPolicy({ ...policy, thresholds: [] })).thenThrows(ValidationError, (error) => assert.match(error.message, /at least one threshold/));
    });

    it('refuses a threshold without any bound', () => {
      const threshold = { metric: 'auc', direction: 'HIGHER_IS_BETTER' as const, lowerBound: null, upperBound: null, minImprovement: null, maxDegradation: null };
      spec.given([created]).when(setPolicy({ ...policy, thresholds: [threshold] })).thenThrows(ValidationError, (error) => assert.match(error.message, /sets no bound/));
    });

    it('refuses a negative change bound', () => {
      const threshold = { ...policy.thresholds[0]!, minImprovement: -0.1 };
      spec.given([created]).when(setPolicy({ ...policy, thresholds: [threshold] })).thenThrows(ValidationError, (error) => assert.match(error.message, />= 0/));
    });

    it('refuses a metric named twice', () => {
      spec.given([created]).when(setPolicy({ ...policy, thresholds: [policy.thresholds[0]!, policy.thresholds[0]!] })).thenThrows(ValidationError, (error) => assert.match(error.message, /appears twice/));
    });

    it('refuses an unknown model', () => {
      spec.given([]).when(setPolicy(policy)).thenThrows(NotFoundError);
    });
  });

  describe('PromoteModelVersion', () => {
    const promote = (version: number, alias = 'champion') => ({ type: 'PromoteModelVersion' as const, data: { modelName: name, version, alias, reason: '' }, metadata: meta });

    it('promotes the first version on value thresholds alone', () => {
      const evidence: GateEvidence = {
        policyName: 'champion-gate',
        passed: true,
        candidateVersion: 1,
        baselineAlias: 'champion',
        baselineVersion: null,
        checks: [
          { metric: 'auc', kind: 'LOWER_BOUND', comparator: 'AT_LEAST', candidateValue: 0.72, baselineValue: null, threshold: 0.7, passed: true, description: 'auc >= 0.7' },
          { metric: 'log_loss', kind: 'UPPER_BOUND', comparator: 'AT_MOST', candidateValue: 0.55, baselineValue: null, threshold: 0.6, passed: true, description: 'log_loss <= 0.6' },
        ],
      };
      spec
        .given([created, policySet, registered(1, { auc: 0.72, log_loss: 0.55 })])
        .when(promote(1))
        .then([
          { type: 'PromotionGateEvaluated', data: { modelName: name, version: 1, alias: 'champion', evidence, actor: meta.actor, evaluatedAt: at } },
          aliasSet('champion', 1, null, evidence, 'passed promotion policy champion-gate'),
        ]);
    });

    it('records a refused evaluation without moving the alias', () => {
      const history = [created, policySet, registered(1, { auc: 0.75, log_loss: 0.5 }), aliasSet('champion', 1, null), registered(2, { auc: 0.74, log_loss: 0.5 })];
      const events = registeredModelDecider.decide(promote(2), history.reduce(registeredModelDecider.evolve, registeredModelDecider.initialState()));
      assert.equal(events.length, 1);
      const [evaluated] = events;
      assert.equal(evaluated?.type, 'PromotionGateEvaluated');
      if (evaluated?.type !== 'PromotionGateEvaluated') return;
      assert.equal(evaluated.data.evidence.passed, false);
      assert.equal(evaluated.data.evidence.baselineVersion, 1);
      const failed = evaluated.data.evidence.checks.filter((check) => !check.passed);
      assert.deepEqual(
        failed.map((check) => [check.kind, check.candidateValue, check.baselineValue]),
        [['MIN_IMPROVEMENT', 0.74, 0.75]],
      );
    });

    it('refuses without a policy', () => {
      spec.given([created, registered(1, {})]).when(promote(1)).thenThrows(IllegalStateError, (error) => assert.match(error.message, /no promotion policy/));
    });

    it('refuses an archived version', () => {
      const archived: RegisteredModelEvent = { type: 'ModelVersionArchived', data: { modelName: name, version: 1, actor: meta.actor, reason: '', archivedAt: at } };
      spec.given([created, policySet, registered(1, { auc: 0.9, log_loss: 0.1 }), archived]).when(promote(1)).thenThrows(IllegalStateError, (error) => assert.match(error.message, /archived/));
    });

    it('refuses a version that holds the alias already', () => {
      spec.given([created, policySet, registered(1, { auc: 0.9, log_loss: 0.1 }), aliasSet('champion', 1, null)]).when(promote(1)).thenThrows(IllegalStateError, (error) => assert.match(error.message, /already holds/));
    });

    it('refuses an unknown version', () => {
      spec.given([created, policySet]).when(promote(3)).thenThrows(NotFoundError);
    });
  });

  describe('any command', () => {
    const commands = [
      { type: 'SetModelVersionAlias' as const, data: { modelName: name, alias: 'champion', version: 1, reason: '' } },
      { type: 'RemoveModelVersionAlias' as const, data: { modelName: name, alias: 'champion', reason: '' } },
      { type: 'ArchiveModelVersion' as const, data: { modelName: name, version: 1, reason: '' } },
      { type: 'SetPromotionPolicy' as const, data: { modelName: name, policy } },
      { type: 'PromoteModelVersion' as const, data: { modelName: name, version: 1, alias: 'champion', reason: '' } },
    ];
    const history = [created, registered(1, { auc: 0.9, log_loss: 0.1 }), aliasSet('champion', 1, null)];

    for (const command of commands) {
      it(`${command.type} refuses an empty actor`, () => {
        spec.given(history).when({ ...command, metadata: { actor: '', at } }).thenThrows(ValidationError, (error) => assert.match(error.message, /actor is empty/));
      });
    }

    it('refuses a reason longer than the limit, or with control characters', () => {
      const setAlias = (reason: string) => ({ type: 'SetModelVersionAlias' as const, data: { modelName: name, alias: 'challenger', version: 1, reason }, metadata: meta });
      spec.given(history).when(setAlias('x'.repeat(2_001))).thenThrows(ValidationError, (error) => assert.match(error.message, /reason is longer than 2000/));
      spec.given(history).when(setAlias('a\u0000b')).thenThrows(ValidationError, (error) => assert.match(error.message, /control characters/));
    });
  });
});
