import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DefinitionFileError, formatProblem, parseDefinitionsFile } from './definitions-file';

const valid = `entities:
  - name: route
    join_keys: [origin, destination]
feature_views:
  - name: route_stats
    entities: [route]
    source: flights
    timestamp_column: date
    ttl: 7d
    features:
      - name: delay_rate_24h
        aggregate: mean
        expression: delay > 15
        window: 24h
      - name: hour
        expression: hour(date)
feature_services:
  - name: model
    features: [route_stats:hour, route_stats]
`;

function problemsOf(text: string): string[] {
  try {
    parseDefinitionsFile(text, 'f.yaml');
  } catch (error) {
    if (error instanceof DefinitionFileError) return error.problems.map((problem) => formatProblem('f.yaml', problem));
    throw error;
  }
  assert.fail('expected problems');
}

describe('DefinitionsFile', () => {
  describe('when valid', () => {
    it('parses entities, views with typed features and services', () => {
      const set = parseDefinitionsFile(valid, 'f.yaml');
      assert.deepEqual(set.entities, [{ name: 'route', joinKeys: ['origin', 'destination'], description: '' }]);
      const [view] = set.featureViews;
      assert.equal(view!.ttlSeconds, 7 * 86_400);
      assert.deepEqual(view!.features.map((feature) => [feature.name, feature.type, feature.aggregation]), [
        ['delay_rate_24h', 'double', { function: 'mean', windowSeconds: 86_400 }],
        ['hour', 'int64', null],
      ]);
      assert.equal(set.featureServices[0]!.features.length, 2);
    });

    it('parses the demo definitions of the flights data', () => {
      const text = readFileSync(join(__dirname, '..', '..', '..', '..', '..', 'examples', 'features', 'flights.yaml'), 'utf8');
      const set = parseDefinitionsFile(text, 'flights.yaml');
      assert.deepEqual(set.entities.map((entity) => entity.name), ['origin', 'route']);
      assert.ok(set.featureViews.length >= 2);
    });
  });

  describe('when invalid', () => {
    it('names the line and column of a bad expression character', () => {
      assert.deepEqual(problemsOf(valid.replace('hour(date)', 'hour(date))')), [
        'f.yaml:16:31 feature_views[0].features[1].expression: invalid expression: unexpected ")" after the end of the expression (at character 11)',
      ]);
    });

    it('reports every problem at once, each at its place', () => {
      const problems = problemsOf(valid.replace('ttl: 7d', 'ttl: 7 days').replace('window: 24h', 'window: 24h\n        colour: blue').replace('entities: [route]', 'entities: [airport]'));
      assert.deepEqual(problems, [
        'f.yaml:9:10 feature_views[0].ttl: must be a duration like 90s, 30m, 24h, 7d or 2w',
        'f.yaml:11:9 feature_views[0].features[0]: unknown key(s) "colour"',
      ]);
    });

    it('names unknown entities, views and features', () => {
      assert.deepEqual(problemsOf(valid.replace('entities: [route]', 'entities: [airport]').replace('route_stats:hour', 'route_stats:minute').replace(', route_stats]', ', other_view]')), [
        'f.yaml:6:16 feature_views[0].entities[0]: unknown entity "airport": define it under "entities"',
        'f.yaml:19:16 feature_services[0].features[0]: feature view "route_stats" has no feature "minute"',
        'f.yaml:19:36 feature_services[0].features[1]: unknown feature view "other_view"',
      ]);
    });

    it('refuses YAML syntax errors and duplicate keys with their line', () => {
      assert.match(problemsOf('entities:\n  - name: a\n    name: b\n    join_keys: [x]\n')[0]!, /^f\.yaml:3:\d+ \(document\): YAML: Map keys must be unique/);
      assert.match(problemsOf('entities: [\n')[0]!, /^f\.yaml:\d+:\d+ \(document\): YAML:/);
    });

    it('refuses an aggregate without window and a window without aggregate', () => {
      const problems = problemsOf(valid.replace('        window: 24h\n', '').replace('expression: hour(date)', 'expression: hour(date)\n        window: 1h'));
      assert.deepEqual(problems, [
        'f.yaml:11:9 feature_views[0].features[0]: aggregate "mean" needs a "window" (e.g. 24h)',
        'f.yaml:16:17 feature_views[0].features[1].window: "window" applies only to an aggregate feature: add "aggregate" (count, sum, mean, min or max)',
      ]);
    });
  });
});
