import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { testServerEnv } from '../setup.js';
import { startServerProcess } from '../support/server-process.js';

describe('a server process and an unhandled promise rejection', function () {
  this.timeout(30000);

  it('logs it and keeps serving', async () => {
    const rejecting = fileURLToPath(new URL('../support/unhandled-rejection.mjs', import.meta.url));
    const server = await startServerProcess({ ...testServerEnv(), NODE_OPTIONS: `--import=${rejecting}` });
    try {
      server.child.kill('SIGUSR2');
      await sleep(1000);
      expect(server.child.exitCode, 'the process is still running').to.equal(null);
      const res = await fetch(`${server.url}/api/health`);
      expect(res.status).to.equal(200);
    } finally {
      server.kill();
    }
  });
});
