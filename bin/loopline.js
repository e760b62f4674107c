#!/usr/bin/env node
// The `loopline` command. The platform runs from its TypeScript sources through SWC, so the
// project's tsconfig (decorator metadata, paths) must be found wherever the command is run from.
const { join } = require('node:path');
process.env.SWC_NODE_PROJECT = process.env.SWC_NODE_PROJECT || join(__dirname, '..', 'tsconfig.json');
require('@swc-node/register');
require('../tools/cli/src/main.ts');
