#!/usr/bin/env node
// `npm start` on a fresh clone: install the dependencies when they are missing, then run
// `loopline demo` in this same terminal: the whole platform starts (and stays up, detached), and
// the flights scenario shows the loop closing by itself. Arguments pass through:
// `npm start -- --fresh` starts over from an empty data folder, `npm start -- -h` lists the options.
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
if (!existsSync(join(root, 'node_modules', '@swc-node', 'register')) || !existsSync(join(root, 'node_modules', 'vega-datasets', 'data', 'flights-3m.parquet'))) {
  // `npm install`, not `npm ci`: chdb names optional platform builds that are not published.
  console.log('[loopline] first run: installing dependencies with `npm install`…');
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
}
process.argv.splice(2, 0, 'demo');
require('../bin/loopline.js');
