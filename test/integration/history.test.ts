import { execFileSync } from 'node:child_process';
import type { DeployInput } from '../../src/domain/deploy';
import { startDeploy } from '../../src/client/deploy';
import { startLifecycle } from '../../src/client/lifecycle';
import { done, fakeActivities } from '../support/fakeActivities';
import { fakePlan } from '../support/fakePlan';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, recordHistory, startWorker, testIdentity, workflowBundle, type Harness } from '../support/temporalHarness';

jest.setTimeout(120_000);

const SECRETS = {
  REGISTRY_USER: 'lab-user-7f3a91',
  REGISTRY_PASSWORD: 'registry-pass-9b1c44',
  NPM_TOKEN: 'npm_tok_5e2d0a77',
  DB_PASSWORD: 'db-pass-8a4f13',
};

const input: DeployInput = { projectDir: '/src/wftest', count: 2, skipBuild: false, skipPush: false };

describeWithLab(['temporal'], 'workflow histories', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectLab();
    await workflowBundle();
  });
  afterAll(() => h?.close());

  it('of a deploy that used registry credentials and a build secret contain their names, never their values', async () => {
    const { activities } = fakeActivities({ secrets: SECRETS });
    const q = queues('secrets');
    const worker = await startWorker(h, q, activities);
    const handle = await startDeploy(h.client, input, { sharedQueue: q.shared, sourceQueue: q.source, identity: testIdentity('history') });
    await worker.runUntil(handle.result());

    const show = (workflowId: string) =>
      execFileSync('temporal', ['workflow', 'show', '--address', h.address, '--workflow-id', workflowId, '--output', 'json'], { encoding: 'utf8' });
    const histories = [handle.workflowId, `${handle.workflowId}/vm/wftest-1`, `${handle.workflowId}/vm/wftest-2`].map(show);
    // Payloads are base64 JSON in the CLI's output: decode them so names and values are searchable.
    const text = histories.map(decodePayloads).join('\n');
    for (const name of Object.keys(SECRETS)) expect(text).toContain(name);
    for (const value of Object.values(SECRETS)) expect(text).not.toContain(value);
  });

  it('RemoveWorkspaces removes the stack, then the VM, of every VM of the deployment', async () => {
    const { activities, calls } = fakeActivities();
    const q = queues('remove');
    const worker = await startWorker(h, q, activities);
    const plan = fakePlan({ ...input, count: 3 }, { identity: testIdentity('remove') });
    const handle = await startLifecycle(h.client, 'RemoveWorkspaces', plan, { sharedQueue: q.shared });
    expect(handle.workflowId).toMatch(/^remove-wftest-\d{8}T\d{6}$/);
    const summary = await worker.runUntil(handle.result());
    expect(summary.vms.map((v: { state: string }) => v.state)).toEqual(['done', 'done', 'done']);
    for (const vm of ['wftest-1', 'wftest-2', 'wftest-3']) {
      const steps = calls.filter((c) => c.vm === vm && c.event === 'done').map((c) => c.step);
      expect(steps).toEqual(['removeStack', 'destroyVm']);
    }
    expect(done(calls, 'listVms')).toHaveLength(1);
    await recordHistory(handle, 'remove-workspaces');
  });

  it('StopWorkspaces stops and StartWorkspaces starts every VM and reports its containers', async () => {
    const { activities, calls } = fakeActivities();
    const q = queues('stopstart');
    const worker = await startWorker(h, q, activities);
    const plan = fakePlan({ ...input, count: 2 }, { identity: testIdentity('stopstart') });
    const [stopped, started] = await worker.runUntil(
      (async () => {
        const stopping = await startLifecycle(h.client, 'StopWorkspaces', plan, { sharedQueue: q.shared });
        const stop = await stopping.result();
        await recordHistory(stopping, 'stop-workspaces');
        const starting = await startLifecycle(h.client, 'StartWorkspaces', plan, { sharedQueue: q.shared });
        const start = await starting.result();
        await recordHistory(starting, 'start-workspaces');
        return [stop, start];
      })(),
    );
    expect(done(calls, 'stopVm').sort()).toEqual(['wftest-1', 'wftest-2']);
    expect(stopped.vms.map((v: { state: string }) => v.state)).toEqual(['done', 'done']);
    expect(done(calls, 'startVm').sort()).toEqual(['wftest-1', 'wftest-2']);
    expect(started.vms[0].containers).toEqual([expect.objectContaining({ service: 'app', state: 'running' })]);
    expect(done(calls, 'runDevcontainerCommands')).toEqual([]);
  });

  it('StartWorkspaces runs postStartCommand on each VM once its stack is healthy, when the plan has one', async () => {
    const { activities, calls } = fakeActivities();
    const q = queues('startcmds');
    const worker = await startWorker(h, q, activities);
    const base = fakePlan({ ...input, count: 1 }, { identity: testIdentity('startcmds') });
    const plan = { ...base, stack: { ...base.stack, lifecycle: { workdir: '/src', env: {}, postCreate: [], postStart: [{ shell: 'bin/dev' }] } } };
    const summary = await worker.runUntil(startLifecycle(h.client, 'StartWorkspaces', plan, { sharedQueue: q.shared }).then((handle) => handle.result()));
    expect(summary.vms.map((v: { state: string }) => v.state)).toEqual(['done']);
    expect(calls.filter((c) => c.event === 'done' && c.vm).map((c) => c.step)).toEqual(['startVm', 'verifyStack', 'runDevcontainerCommands', 'stackStatus']);
  });
});

function decodePayloads(json: string): string {
  return json.replace(/"data":\s*"([A-Za-z0-9+/=]+)"/g, (_m, data: string) => Buffer.from(data, 'base64').toString('utf8'));
}
