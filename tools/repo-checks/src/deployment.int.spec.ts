import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runTool } from './run-tool';

describe('the deployment files', () => {
  it('docker-compose.yml is a valid Compose file', (t) => {
    const result = runTool('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q']);
    if (result.missing && process.env.CI !== 'true') {
      // No Docker engine runs on our machines; the Debian docker-compose package only validates.
      t.skip('docker-compose is not installed here (apt-get install docker-compose); CI installs it');
      return;
    }
    assert.equal(result.status, 0, `docker-compose config failed:\n${result.output}`);
  });
});
