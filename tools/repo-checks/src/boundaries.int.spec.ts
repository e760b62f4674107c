import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { repositoryRoot, runTool } from './run-tool';

// The architecture rules are lint rules; these cases prove each one fires (a rule that never
// fires would let the architecture rot silently).
async function lintAs(relativePath: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: repositoryRoot });
  const [result] = await eslint.lintText(code, { filePath: join(repositoryRoot, relativePath) });
  return result.messages.map((message) => `${message.ruleId}: ${message.message}`);
}

describe('architecture lint rules', () => {
  before(() => {
    const graph = runTool(process.execPath, ['node_modules/nx/dist/bin/nx.js', 'show', 'projects']);
    assert.equal(graph.status, 0, graph.output);
  });

  it('forbids a service importing another service', async () => {
    const messages = await lintAs('services/registry/src/wrong.ts', "import '@loopline/serving-service';\n");
    assert.ok(messages.some((m) => m.startsWith('@nx/enforce-module-boundaries')), messages.join('\n'));
  });

  it('forbids production code of a platform library importing the test helpers', async () => {
    const messages = await lintAs('libs/messaging/src/wrong.ts', "export { eventually } from '@loopline/testing';\n");
    assert.ok(messages.some((m) => m.startsWith('@nx/enforce-module-boundaries')), messages.join('\n'));
  });

  it('forbids framework and I/O imports in a domain folder', async () => {
    const messages = await lintAs('services/registry/src/domain/model/wrong.ts', "import { Pool } from 'pg';\nexport const pool = Pool;\n");
    assert.ok(messages.some((m) => m.startsWith('no-restricted-imports')), messages.join('\n'));
  });

  it('forbids reading the clock in a domain folder', async () => {
    const messages = await lintAs('services/registry/src/domain/model/clock.ts', 'export const now = Date.now();\n');
    assert.ok(messages.some((m) => m.startsWith('no-restricted-properties')), messages.join('\n'));
  });

  it('forbids it.only', async () => {
    const messages = await lintAs('libs/config/src/x.unit.spec.ts', "import { it } from 'node:test';\nit.only('x', () => undefined);\n");
    assert.ok(messages.some((m) => m.startsWith('no-restricted-syntax')), messages.join('\n'));
  });

  it('lets a service use platform libraries and contracts', async () => {
    const messages = await lintAs('services/registry/src/fine.ts', "export { loadServiceConfig } from '@loopline/config';\n");
    assert.deepEqual(messages, []);
  });
});
