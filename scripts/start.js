#!/usr/bin/env node
// `npm start` on a fresh clone: install the dependencies when they are missing, then run
// `loopline up` in this same terminal (Ctrl-C reaches it directly).
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
if (!existsSync(join(root, 'node_modules', '@swc-node', 'register'))) {
  // `npm install`, not `npm ci`: chdb names optional platform builds that are not published.
  console.log('[loopline] first run: installing dependencies with `npm install`…');
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (install.status !== 0) process.exit(install.status ?? 1);
}
process.argv.splice(2, 0, 'up');
require('../bin/loopline.js');
