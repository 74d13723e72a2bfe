import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDeploy } from '../../src/client/deploy';
import type { DeploySummary, ProfileOverrides } from '../../src/workflows/types';
import type { FakeCall } from '../support/fakeActivities';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, workflowBundle, type Harness, testIdentity } from '../support/temporalHarness';

jest.setTimeout(180_000);

// A killed worker's in-flight activities are retried after their timeout: short ones keep the test quick.
const PROFILES: ProfileOverrides = Object.fromEntries(
  (['quick', 'long', 'provision', 'ssh', 'verify', 'compensation'] as const).map((p) => [p, { startToCloseTimeout: '5s', heartbeatTimeout: '5s' }]),
);

describeWithLab(['temporal'], 'a worker killed with SIGKILL mid-deploy', () => {
  let h: Harness;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    h = await connectLab();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await h?.close();
  });

  it('is replaced by a new worker and the deploy completes with N VMs and no completed step repeated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-crash-'));
    const bundlePath = join(dir, 'workflow-bundle.js');
    writeFileSync(bundlePath, (await workflowBundle()).code);
    const recordFile = join(dir, 'calls.jsonl');
    const q = queues('crash');
    const spawnWorker = () => {
      const child = spawn(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'support', 'crashWorker.ts'), h.address, q.shared, q.source, bundlePath, recordFile],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(child);
      return new Promise<ChildProcess>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(child));
        child.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
      });
    };
    const calls = (): (FakeCall & { pid: number })[] =>
      existsSync(recordFile) ? readFileSync(recordFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : [];

    const first = await spawnWorker();
    const handle = await startDeploy(h.client, { projectDir: '/src/wftest', count: 3, skipBuild: false, skipPush: false }, { sharedQueue: q.shared, sourceQueue: q.source, profiles: PROFILES, identity: testIdentity('crash') });
    await waitFor(() => calls().some((c) => c.step === 'waitForSsh' && c.event === 'done'));
    await sleep(100); // the VMs move in lockstep: let the others' completions reach the server too
    first.kill('SIGKILL');
    const killedAfter = calls().filter((c) => c.event === 'done').length;

    await spawnWorker();
    const summary: DeploySummary = await handle.result();

    expect(summary.outcome).toBe('deployed');
    const all = calls();
    const completed = all.filter((c) => c.event === 'done');
    expect(completed.length).toBeGreaterThan(killedAfter);
    expect(new Set(completed.map((c) => c.pid)).size).toBe(2);
    const provisioned = completed.filter((c) => c.step === 'provisionVm').map((c) => c.vm);
    expect(provisioned.sort()).toEqual(['wftest-1', 'wftest-2', 'wftest-3']);
    const keys = completed.map((c) => `${c.step}/${c.vm ?? ''}`);
    expect(keys.length).toBe(new Set(keys).size);
    expect(keys).toHaveLength(3 + 6 * 3);
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(50);
  }
}
