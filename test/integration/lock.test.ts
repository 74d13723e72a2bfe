import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { DeployInput } from '../../src/domain/deploy';
import { childCleanup, type CleanupReport } from '../../src/client/cleanup';
import { startDeploy } from '../../src/client/deploy';
import { KamalDevError } from '../../src/errors';
import { LOCKED_FAILURE_TYPE, lockWorkflowId } from '../../src/workflows/names';
import { done, fakeActivities, type FakeCall, type FakeOptions } from '../support/fakeActivities';
import { fakePlan } from '../support/fakePlan';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, recordHistory, startWorker, testIdentity, workflowBundle, type Harness } from '../support/temporalHarness';

jest.setTimeout(180_000);

const input = (count: number): DeployInput => ({ projectDir: '/src/wftest', count, skipBuild: false, skipPush: false });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: () => boolean, ms = 30_000): Promise<void> {
  const started = Date.now();
  while (!what()) {
    if (Date.now() - started > ms) throw new Error('timed out waiting');
    await sleep(50);
  }
}

describeWithLab(['temporal'], 'one operation per project, and what a cancel or terminate leaves', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectLab();
    await workflowBundle();
  });
  afterAll(() => h?.close());

  /** Starts a 3-VM deploy, runs `during` once it is under way, and waits for every child to close. */
  async function interrupted(fake: FakeOptions, during: (handle: WorkflowHandle, calls: FakeCall[], project: { identity: string; q: ReturnType<typeof queues> }) => Promise<void>) {
    const { activities, calls } = fakeActivities(fake);
    const q = queues('lock');
    const identity = testIdentity('cancel');
    const worker = await startWorker(h, q, activities);
    const handle = await startDeploy(h.client, input(3), { sharedQueue: q.shared, sourceQueue: q.source, identity });
    const { error, cleanup } = await worker.runUntil(
      (async () => {
        await during(handle, calls, { identity, q });
        const error = await handle.result().then(() => undefined, (e: unknown) => e);
        return { error, cleanup: await childCleanup(h.client, handle.workflowId) };
      })(),
    );
    const lock = await h.client.workflow.getHandle(lockWorkflowId(identity)).describe();
    return { error, cleanup, calls, handle, lock, identity, q };
  }

  /** The early check lets a new deploy of the project start; it is terminated again before any worker runs it. */
  async function expectStartsAgain(identity: string, q: { shared: string; source: string }) {
    const again = await startDeploy(h.client, input(1), { sharedQueue: q.shared, sourceQueue: q.source, identity });
    await again.terminate('test: only the start was checked');
  }

  const slow = (step: string, ms: number, vm?: string) => (s: string, v?: string) => (s === step && (!vm || v === vm) ? ms : 20);
  const provisioned = (calls: FakeCall[]) => calls.filter((c) => c.step === 'provisionVm' && c.event === 'start').map((c) => c.vm).sort();
  const expectClean = (calls: FakeCall[], cleanup: CleanupReport) => {
    expect(done(calls, 'destroyVm').sort()).toEqual(provisioned(calls));
    expect(cleanup).toEqual({ removed: provisioned(calls), kept: [], deployed: [] });
  };

  it('two deploys of one project started at once: one runs, the other is refused; the lock is released after', async () => {
    const { activities, calls } = fakeActivities({ delay: () => 20 });
    const q = queues('lock-twice');
    const identity = testIdentity('twice');
    const options = { sharedQueue: q.shared, sourceQueue: q.source, identity };
    // Both pass the early check (no worker has run either yet): the lock inside the workflows decides.
    const [first, second] = [await startDeploy(h.client, input(1), options), await startDeploy(h.client, input(1), options)];
    const worker = await startWorker(h, q, activities);
    const outcomes = await worker.runUntil(Promise.all([first, second].map((w) => w.result().then(() => 'deployed', (e: unknown) => e))));
    const refused = outcomes.find((o) => o !== 'deployed') as WorkflowFailedError;
    expect(outcomes.filter((o) => o === 'deployed')).toHaveLength(1);
    expect(refused.cause).toBeInstanceOf(ApplicationFailure);
    expect((refused.cause as ApplicationFailure).type).toBe(LOCKED_FAILURE_TYPE);
    expect(done(calls, 'planDeploy')).toHaveLength(1);
    const lock = h.client.workflow.getHandle(lockWorkflowId(identity));
    expect((await lock.describe()).status.name).toBe('COMPLETED');
    await recordHistory(lock, 'operation-lock');
    await recordHistory([first, second][outcomes.indexOf('deployed')], 'deploy-lock-released-at-commit');
    // Released: the next deploy runs, and meanwhile an early check refuses a third with the holder's name.
    const next = await startDeploy(h.client, input(1), options);
    const refusal = await (await startWorker(h, q, activities)).runUntil(
      (async () => {
        await until(() => done(calls, 'planDeploy').length === 2);
        const third = await startDeploy(h.client, input(1), options).then(() => undefined, (e: unknown) => e);
        await next.result();
        return third;
      })(),
    );
    expect(refusal).toBeInstanceOf(KamalDevError);
    expect((refusal as KamalDevError).message).toContain(`deploy refused: ${next.workflowId} (deploy, started `);
    expect((refusal as KamalDevError).description).toBe(`follow it: kamal-dev deploy --attach ${next.workflowId}\ncancel it: kamal-dev cancel ${next.workflowId}`);
  });

  it('the lock is released after a failed deploy', async () => {
    const fail: FakeOptions['fail'] = (step) => (step === 'buildImages' ? new KamalDevError('build', 'RUN exited 1') : undefined);
    const { activities } = fakeActivities({ fail });
    const q = queues('lock-failed');
    const identity = testIdentity('failed');
    const worker = await startWorker(h, q, activities);
    const failed = await startDeploy(h.client, input(1), { sharedQueue: q.shared, sourceQueue: q.source, identity });
    await worker.runUntil(failed.result().catch(() => undefined));
    expect((await h.client.workflow.getHandle(lockWorkflowId(identity)).describe()).status.name).toBe('COMPLETED');
    await expectStartsAgain(identity, q);
  });

  it('cancel during the build: the build is undone, and the VMs made meanwhile are destroyed before the lock is released', async () => {
    const { error, cleanup, calls, lock } = await interrupted({ delay: slow('buildImages', 60_000) }, async (handle, calls) => {
      await until(() => done(calls, 'provisionVm').length === 3);
      await handle.cancel();
    });
    expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    expect(done(calls, 'removeBuildImages')).toHaveLength(1);
    expect(provisioned(calls)).toEqual(['wftest-1', 'wftest-2', 'wftest-3']);
    expectClean(calls, cleanup);
    expect(lock.status.name).toBe('COMPLETED');
  });

  it('cancel during provisioning: every VM this run created is destroyed', async () => {
    const { error, cleanup, calls, handle } = await interrupted({ delay: slow('provisionVm', 3000) }, async (handle, calls) => {
      await until(() => calls.filter((c) => c.step === 'provisionVm').length === 3);
      await handle.cancel();
    });
    expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    expect(provisioned(calls)).toEqual(['wftest-1', 'wftest-2', 'wftest-3']);
    expectClean(calls, cleanup);
    expect(await (await handle.describe()).memo).toMatchObject({ removed: ['wftest-1', 'wftest-2', 'wftest-3'] });
  });

  it('cancel after two of three VMs deployed: the finished ones are removed too', async () => {
    const { cleanup, calls, handle } = await interrupted({ delay: slow('bootstrapVm', 10_000, 'wftest-3') }, async (handle, calls) => {
      await until(() => done(calls, 'verifyStack').length === 2);
      await handle.cancel();
    });
    expect(done(calls, 'verifyStack').sort()).toEqual(['wftest-1', 'wftest-2']);
    expectClean(calls, cleanup);
    const description = await handle.describe();
    expect(description.status.name).toBe('CANCELLED');
    expect(await description.memo).toMatchObject({ summary: 'cancelled: removed wftest-1, wftest-2, wftest-3; kept no VM' });
    await recordHistory(handle, 'deploy-cancelled-after-deployed-overlap');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-overlap-deployed-then-cancelled');
  });

  it('a cancel with on_failure: keep keeps the VMs and says so', async () => {
    const { cleanup, calls } = await interrupted({ delay: slow('bootstrapVm', 10_000), plan: (i) => fakePlan(i, { onFailure: 'keep' }) }, async (handle, calls) => {
      await until(() => done(calls, 'provisionVm').length === 3);
      await handle.cancel();
    });
    expect(done(calls, 'destroyVm')).toEqual([]);
    expect(cleanup).toEqual({ removed: [], kept: ['wftest-1', 'wftest-2', 'wftest-3'], deployed: [] });
  });

  it('terminate of the deploy: its children still compensate, and the lock is held until they have', async () => {
    const seen: { lock?: string; early?: unknown; direct?: unknown; destroyed?: string[] } = {};
    const delay = (step: string, vm?: string) => (step === 'destroyVm' ? 15_000 : slow('bootstrapVm', 10_000, 'wftest-3')(step, vm));
    const { error, cleanup, calls, identity, q, handle } = await interrupted({ delay }, async (handle, calls, { identity, q }) => {
      await until(() => done(calls, 'verifyStack').length === 2);
      await handle.terminate('test: terminate mid-deploy');
      await until(() => calls.some((c) => c.step === 'destroyVm'));
      // The children are destroying what the run created: the lock is still held, for them.
      seen.lock = (await h.client.workflow.getHandle(lockWorkflowId(identity)).describe()).status.name;
      seen.early = await startDeploy(h.client, input(1), { sharedQueue: q.shared, sourceQueue: q.source, identity }).catch((e: unknown) => e);
      // A deploy that skips the early check (started by hand, or in the moment between) is refused by the lock.
      const direct = await h.client.workflow.start('DeployWorkspaces', { taskQueue: q.shared, workflowId: `${handle.workflowId}-direct`, args: [{ ...input(1), sourceTaskQueue: q.source, identity }] });
      seen.direct = await direct.result().catch((e: unknown) => e);
      seen.destroyed = done(calls, 'destroyVm');
    });
    expect((error as WorkflowFailedError).cause?.name).toBe('TerminatedFailure');
    expectClean(calls, cleanup);
    expect(seen.lock).toBe('RUNNING');
    expect(seen.destroyed).toEqual([]);
    expect((seen.early as KamalDevError).message).toMatch(/^deploy refused: deploy-wftest-\S+ \(deploy, started .*\) was terminated, and its VMs are still being cleaned up$/);
    expect((seen.early as KamalDevError).description).toBe(`Run the command again once ${lockWorkflowId(identity)} has ended: it is held until each VM of that run has destroyed what the run created.`);
    expect(((seen.direct as WorkflowFailedError).cause as ApplicationFailure).type).toBe(LOCKED_FAILURE_TYPE);
    // Released once the last child has closed.
    const lock = h.client.workflow.getHandle(lockWorkflowId(identity));
    await lock.result();
    expect((await lock.describe()).status.name).toBe('COMPLETED');
    await recordHistory(lock, 'operation-lock-after-terminate');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-terminated-parent-tells-lock');
    await expectStartsAgain(identity, q);
  });
});
