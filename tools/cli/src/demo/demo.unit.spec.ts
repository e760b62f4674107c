import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { crippledParams, parseDemoOptions } from './demo-command';
import { LiveView, type LiveState } from './live-view';
import { demoPipelineYaml } from './scenario';

describe('loopline demo', () => {
  describe('its options', () => {
    it('default to January–February for training and March–June as traffic', () => {
      const { options, fresh } = parseDemoOptions([]);
      assert.equal(fresh, false);
      assert.equal(options.trainFrom.toISOString(), '2001-01-01T00:00:00.000Z');
      assert.equal(options.replayFrom.toISOString(), '2001-03-01T00:00:00.000Z');
      assert.equal(options.replayUntil.toISOString(), '2001-07-01T00:00:00.000Z');
      assert.equal(options.badCandidate, null);
      assert.deepEqual(options.gate, { minAuc: 0.6, maxDegradation: 0.1 });
    });

    it('let a deliberately worse candidate through the gate to the live comparison', () => {
      const { options } = parseDemoOptions(['--bad-candidate', '2001-04-02', '--weak-start']);
      assert.deepEqual(options.badCandidate?.params, crippledParams);
      assert.equal(options.badCandidate?.at.toISOString(), '2001-04-02T00:00:00.000Z');
      assert.deepEqual(options.initialParams, crippledParams);
      assert.equal(options.gate.maxDegradation, null);
    });

    for (const [args, message] of [
      [['--speed', '0'], /--speed must be a positive number/],
      [['--traffic', '1.5'], /--traffic must be a fraction/],
      [['--until', '2001-09-01'], /covers 2001-01-01 to 2001-07-01/],
      [['--replay-from', '2001-05-01', '--until', '2001-04-01'], /must be in order/],
      [['--bad-candidate', '2001-01-15'], /inside the replay/],
      [['--monitor-metric', 'rmse'], /--monitor-metric must be/],
      [['--from', 'March'], /--from must be a day like/],
    ] as const) {
      it(`refuse ${args.join(' ')} naming the problem`, () => {
        assert.throws(() => parseDemoOptions([...args]), message);
      });
    }
  });

  describe('its pipeline', () => {
    it('is examples/pipelines/flights-retrain.yaml with the landing file and the scenario params as defaults', () => {
      const definition = parseYaml(demoPipelineYaml('/data/demo/landing/flights.parquet', { canaryPercent: 50, minAuc: 0.5 })) as {
        name: string;
        params: Record<string, { default: unknown }>;
        triggers: { event: string }[];
      };
      assert.equal(definition.name, 'flights-retrain');
      assert.equal(definition.params.dataUri!.default, '/data/demo/landing/flights.parquet');
      assert.equal(definition.params.canaryPercent!.default, 50);
      assert.equal(definition.params.minAuc!.default, 0.5);
      assert.deepEqual(definition.triggers.map((trigger) => trigger.event).sort(), ['loopline.monitoring.v1.DriftDetected', 'loopline.monitoring.v1.PerformanceDegraded']);
    });

    it('refuses a param the pipeline does not declare', () => {
      assert.throws(() => demoPipelineYaml('/x.parquet', { canaryPercnt: 5 }), /no param "canaryPercnt"/);
    });
  });

  describe('its live view', () => {
    const state: LiveState = {
      simulatedTime: new Date('2001-03-14T08:00:00Z'),
      predictionsPerSecond: 61.4,
      predictions: 12_000,
      labels: 11_500,
      failedPredictions: 0,
      champion: 2,
      challenger: 3,
      canaryPercent: 30,
      championLive: { labelled: 9_000, accuracy: 0.812, rocAuc: 0.664 },
      datasetVersions: 13,
      alerts: [{ kind: 'drift', monitorName: 'flight-delay-drift', modelVersion: 2, detectedAt: '2026-11-28T03:50:05.655Z', status: 'open' }],
      runs: [{ runId: '5a9954fa-c55c-5fa5-b5a1-e3c5e53cc68c', status: 'running', reason: 'drift alert x', step: 'deploy' }],
      lastEvent: 'new data',
    };
    const stream = (isTTY: boolean) => {
      const written: string[] = [];
      return { written, out: { isTTY, columns: 100, write: (text: string) => written.push(text) > 0 } as unknown as NodeJS.WriteStream };
    };

    it('prints one progress line at a time when the output is not a terminal', () => {
      const { written, out } = stream(false);
      const view = new LiveView(out, 60_000);
      view.render(state);
      view.render(state);
      assert.equal(written.length, 1, 'rate-limited');
      assert.match(written[0]!, /^\[demo\] 2001-03-14 08:00 {2}12000 predictions \(61\/s\), 11500 labels {2}champion v2 live accuracy 0\.812 auc 0\.664 \(9000 labelled\) {2}challenger v3 at 30%/);
      assert.doesNotMatch(written[0]!, /\x1b\[/, 'no escape codes in a log');
    });

    it('redraws in place on a terminal', () => {
      const { written, out } = stream(true);
      const view = new LiveView(out);
      view.render(state);
      const lines = written.join('').split('\n').length - 1;
      view.render({ ...state, predictions: 12_100 });
      assert.ok(written.some((text) => text === `\x1b[${lines}A\x1b[J`), 'moved up over the previous view and cleared it');
      assert.match(written.at(-1)!, /predictions 12100/);
      assert.match(written.at(-1)!, /drift {7}flight-delay-drift on v2 \(open\)/);
    });
  });
});
