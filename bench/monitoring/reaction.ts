// `npm run bench:reaction`: how fast the loop answers. Runs the shortened flights scenario of the
// closed-loop test (`loopline demo` on its own data folder and free ports: a weak first champion,
// five weeks of live traffic) and prints, for every alert-triggered retraining, the time from the
// alert (its first drifted or degraded window, `detectedAt`) to the retrained challenger taking
// canary traffic. Goal ≤ 60 s (issue 6). Printed, never gating CI; the platform is stopped and
// its folder deleted at the end (BENCH_KEEP=1 keeps both).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { platformEnv } from '@loopline/testing';
import type { ScenarioSummary } from '../../tools/cli/src/demo/scenario';

const root = resolve(__dirname, '..', '..');
const cli = join(root, 'bin', 'loopline.js');

async function main(): Promise<number> {
  const folder = mkdtempSync(join(tmpdir(), 'loopline-bench-reaction-'));
  chmodSync(folder, 0o755);
  const summaryFile = join(folder, 'summary.json');
  const env = await platformEnv(join(folder, 'platform'));
  const args = [
    cli, 'demo',
    '--from', '2001-01-01', '--replay-from', '2001-01-22', '--until', '2001-02-26',
    '--sample', '0.3', '--traffic', '0.025', '--speed', '3.5', '--weak-start',
    '--monitor-metric', 'roc_auc', '--monitor-threshold', '0.58', '--window', '600',
    '--summary-json', summaryFile,
  ];
  console.log(`reaction time of the loop: loopline ${args.slice(1).join(' ')}`);
  const started = Date.now();
  const code = await new Promise<number | null>((done) => spawn(process.execPath, args, { env, stdio: 'inherit' }).on('exit', (exitCode) => done(exitCode)));
  try {
    if (code !== 0) {
      console.error(`loopline demo exited with ${code}`);
      return 1;
    }
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as ScenarioSummary;
    console.log('');
    console.log(`scenario: ${Math.round((Date.now() - started) / 1000)} s, ${summary.predictions} predictions, ${summary.alerts.length} alerts, ${summary.runs.length} runs`);
    if (summary.reactions.length === 0) console.log('reaction time: no alert-triggered retraining reached the canary');
    for (const reaction of summary.reactions) console.log(`reaction time: ${reaction.seconds.toFixed(1)} s (alert ${reaction.alertId} → canary of run ${reaction.runId}; goal ≤ 60 s${reaction.seconds <= 60 ? ' ✓' : ': missed'})`);
    return 0;
  } finally {
    if (process.env.BENCH_KEEP !== '1') {
      spawnSync(process.execPath, [cli, 'down'], { env, stdio: 'inherit' });
      rmSync(folder, { recursive: true, force: true });
    }
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
