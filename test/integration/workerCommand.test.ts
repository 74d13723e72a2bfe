import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDeploy } from '../../src/client/deploy';
import { sourceTaskQueue } from '../../src/client/queues';
import type { DeploySummary } from '../../src/workflows/types';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, type Harness, testIdentity } from '../support/temporalHarness';

jest.setTimeout(120_000);

describeWithLab(['temporal'], 'kamal-dev worker', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectLab();
  });
  afterAll(() => h?.close());

  it('runs deploys started elsewhere and stops gracefully on SIGTERM', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'kamal-dev-worker-'));
    const shared = queues('worker-cmd').shared;
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'support', 'cliWorker.ts'), projectDir], {
      env: { ...process.env, TEMPORAL_ADDRESS: h.address, KAMAL_DEV_TASK_QUEUE: shared },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const handle = await startDeploy(h.client, { projectDir, count: 2, skipBuild: false, skipPush: false }, { sharedQueue: shared, sourceQueue: sourceTaskQueue(projectDir), identity: testIdentity('worker') });
      const summary: DeploySummary = await handle.result();
      expect(summary.outcome).toBe('deployed');
      expect(stderr).toContain(`worker polling ${shared} and ${sourceTaskQueue(projectDir)} on ${h.address}`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('worker stopped');
  });
});
