import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluate, evaluateCondition, ExpressionError, objectScope, parseExpression } from './expression';

const scope = objectScope({
  params: { minAuc: 0.7, names: ['a', 'b'] },
  steps: { evaluate: { outputs: { auc: 0.75, passed: true } } },
  event: { modelName: 'flight-delay', rowCount: '1200' },
});
const run = (source: string) => evaluate(parseExpression(source), scope);

describe('Expression', () => {
  it('compares, combines and reads dot paths', () => {
    assert.equal(run('steps.evaluate.outputs.auc >= params.minAuc && steps.evaluate.outputs.passed'), true);
    assert.equal(run('!(event.modelName == "flight-delay") || false'), false);
    assert.equal(run("event.modelName != 'other'"), true);
  });

  it('compares 64-bit integers spelled as text (proto3 JSON) as numbers', () => {
    assert.equal(run('event.rowCount > 1000'), true);
    assert.equal(run('event.rowCount == 1200'), true);
  });

  it('supports in, lists and the few functions', () => {
    assert.equal(run('"a" in params.names'), true);
    assert.equal(run('event.modelName in ["x", "flight-delay"]'), true);
    assert.equal(run('startsWith(event.modelName, "flight") && len(params.names) == 2'), true);
    assert.equal(run('contains("abc", "b")'), true);
  });

  it('reads a missing name as null', () => {
    assert.equal(run('params.absent'), null);
    assert.equal(evaluateCondition(parseExpression('params.absent'), scope), false);
  });

  it('never reaches beyond the values given', () => {
    assert.equal(run('params.constructor'), null);
    assert.equal(run('params.names.__proto__'), null);
    assert.throws(() => parseExpression('process.exit(1)'), ExpressionError);
    assert.throws(() => parseExpression('require("fs")'), /unknown function "require"/);
  });

  it('refuses malformed expressions with the place', () => {
    assert.throws(() => parseExpression('a == '), /unexpected end/);
    assert.throws(() => parseExpression('a === b'), /unexpected "=" at 4|unexpected/);
    assert.throws(() => parseExpression('"open'), /unterminated text/);
    assert.throws(() => run('params.names < 3'), /cannot compare list < number/);
  });
});
