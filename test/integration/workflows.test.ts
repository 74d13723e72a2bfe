import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { DeployInput } from '../../src/domain/deploy';
import type { DeployPlan } from '../../src/spec/plan';
import { fetchProgress, startDeploy } from '../../src/client/deploy';
import { KamalDevError } from '../../src/errors';
import { DEPLOY_FAILED_TYPE } from '../../src/workflows/names';
import type { DeploySummary, WorkspaceProgress } from '../../src/workflows/types';
import { DESTROY_ONLY_CREATED } from '../../src/workflows/workspace';
import { done, fakeActivities, type FakeCall, type FakeOptions } from '../support/fakeActivities';
import { fakePlan } from '../support/fakePlan';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, recordHistory, startWorker, workflowBundle, type Harness, testIdentity } from '../support/temporalHarness';

jest.setTimeout(120_000);

const input = (count: number, extra: Partial<DeployInput> = {}): DeployInput => ({ projectDir: '/src/wftest', count, skipBuild: false, skipPush: false, ...extra });

/** A deploy with no VM deployed fails; its summary is then the failure's details. */
function withSummary<T extends { summary?: DeploySummary; error?: unknown }>(result: T): T {
  const cause = (result.error as WorkflowFailedError | undefined)?.cause as ApplicationFailure | undefined;
  return { ...result, summary: result.summary ?? (cause?.details?.[0] as DeploySummary | undefined) };
}

describeWithLab(['temporal'], 'DeployWorkspaces on a real Temporal server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectLab();
    await workflowBundle();
  });
  afterAll(() => h?.close());

  async function deploy(fake: FakeOptions, deployInput: DeployInput, during?: (workflowId: string, calls: FakeCall[]) => Promise<void>) {
    const { activities, calls, vms } = fakeActivities(fake);
    const q = queues('wf');
    const worker = await startWorker(h, q, activities);
    const handle = await startDeploy(h.client, deployInput, { sharedQueue: q.shared, sourceQueue: q.source, profiles: { ssh: { initialInterval: '100ms' } }, identity: testIdentity('wf') });
    const outcome = await worker.runUntil(
      (async () => {
        await during?.(handle.workflowId, calls);
        return handle.result().then(
          (summary: DeploySummary) => ({ summary, error: undefined }),
          (error: unknown) => ({ summary: undefined, error }),
        );
      })(),
    );
    return { ...outcome, calls, handle, vms };
  }

  it('fans out one child per VM and returns a per-VM summary', async () => {
    const { summary, calls, handle } = await deploy({}, input(3));
    expect(summary?.outcome).toBe('deployed');
    expect(summary?.vms.map((v) => [v.name, v.state, v.workflowId])).toEqual(
      [1, 2, 3].map((i) => [`wftest-${i}`, 'deployed', `${handle.workflowId}/vm/wftest-${i}`]),
    );
    expect(done(calls, 'provisionVm').sort()).toEqual(['wftest-1', 'wftest-2', 'wftest-3']);
    expect(done(calls, 'verifyStack')).toHaveLength(3);
    expect(summary?.vms[0].containers?.[0]).toMatchObject({ service: 'app', state: 'running' });
    const description = await handle.describe();
    expect(description.searchAttributes).toMatchObject({ KamalDevService: ['wftest'], KamalDevPhase: ['done'] });
    expect(await description.memo).toMatchObject({ service: 'wftest', summary: '3/3 VM(s) deployed' });
    await recordHistory(handle, 'deploy-3-vms-overlap');
  });

  it('answers the progress query on the parent and every child, also after completion', async () => {
    const { handle } = await deploy({}, input(2));
    const { activities } = fakeActivities();
    const q = queues('wf-query');
    const worker = await startWorker(h, { ...q, shared: (await handle.describe()).taskQueue }, activities);
    const progress = await worker.runUntil(fetchProgress(h.client, handle.workflowId));
    expect(progress.phase).toBe('done');
    expect(progress.steps.map((s) => [s.name, s.state])).toEqual([
      ['planDeploy', 'done'],
      ['buildImages', 'done'],
      ['pushImages', 'done'],
    ]);
    expect(progress.vms[1].steps.map((s) => [s.name, s.state])).toEqual(
      ['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'waitForImages', 'composeUp', 'verifyStack'].map((name) => [name, 'done']),
    );
    expect(progress.vms[1].steps[0].startedAt).toMatch(/^\d{4}-/);
  });

  it('one failed VM is compensated; the others are kept and the parent still completes', async () => {
    const fail: FakeOptions['fail'] = (step, vm) => (step === 'composeUp' && vm === 'wftest-2' ? ApplicationFailure.nonRetryable('port in use', 'KamalDevError.compose') : undefined);
    const { summary, calls, handle } = await deploy({ fail, createdVms: ['wftest-1', 'wftest-2', 'wftest-3'] }, input(3));
    expect(summary?.outcome).toBe('partial');
    expect(summary?.vms.map((v) => v.state)).toEqual(['deployed', 'failed', 'deployed']);
    expect(summary?.vms[1]).toMatchObject({ error: 'port in use', cleanup: 'removed' });
    expect(done(calls, 'destroyVm')).toEqual(['wftest-2']);
    // Recognisable from the Web UI's list: the phase attribute, and the details name the failed VM.
    const description = await handle.describe();
    expect(description.searchAttributes).toMatchObject({ KamalDevPhase: ['partial'] });
    expect(await description.memo).toMatchObject({ summary: '2/3 VM(s) deployed; failed: wftest-2: port in use' });
    const vm2 = calls.filter((c) => c.vm === 'wftest-2' && c.event === 'done').map((c) => c.step);
    expect(vm2).toEqual(['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'rollbackStack', 'destroyVm']);
    await recordHistory(handle, 'deploy-partial-overlap');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-overlap-deployed');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-2`), 'workspace-overlap-compensated');
  });

  it("runs devcontainer.json's commands after verify, only for a plan that has them", async () => {
    const lifecycle = { workdir: '/src', env: {}, postCreate: [{ shell: 'bin/setup' }], postStart: [] };
    const withCommands = (i: DeployInput) => { const p = fakePlan(i); return { ...p, stack: { ...p.stack, lifecycle } }; };
    const { summary, calls, handle } = await deploy({ plan: withCommands }, input(1));
    expect(summary?.outcome).toBe('deployed');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-overlap-with-commands');
    expect(calls.filter((c) => c.event === 'done' && c.vm).map((c) => c.step)).toEqual(['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'composeUp', 'verifyStack', 'runDevcontainerCommands']);
    const plain = await deploy({}, input(1));
    expect(done(plain.calls, 'runDevcontainerCommands')).toEqual([]);
  });

  it('a redeploy whose verify or postCreateCommand fails rolls its VM back to the previous stack, and says so', async () => {
    const lifecycle = { workdir: '/src', env: {}, postCreate: [{ shell: 'bin/setup' }], postStart: [] };
    const withCommands = (i: DeployInput) => { const p = fakePlan(i); return { ...p, stack: { ...p.stack, lifecycle } }; };
    const unhealthy: FakeOptions['fail'] = (step) => (step === 'verifyStack' ? ApplicationFailure.nonRetryable('app (running, unhealthy)', 'StackUnhealthy') : undefined);
    const { summary, calls, handle } = await deploy({ fail: unhealthy }, input(1)).then(withSummary);
    expect(summary?.vms[0]).toMatchObject({ state: 'failed', error: 'app (running, unhealthy); rolled back to the previous stack' });
    const steps = calls.filter((c) => c.vm === 'wftest-1' && c.event === 'done').map((c) => c.step);
    // Newest first: the stack is rolled back before anything older is undone.
    expect(steps.slice(0, 5)).toEqual(['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'composeUp']);
    expect(steps[5]).toBe('rollbackStack');
    const childId = `${handle.workflowId}/vm/wftest-1`;
    const { activities } = fakeActivities();
    const worker = await startWorker(h, { ...queues('wf-rollback-query'), shared: (await handle.describe()).taskQueue }, activities);
    const child = await worker.runUntil(h.client.workflow.getHandle(childId).query<WorkspaceProgress>('progress'));
    expect(child.steps.find((s) => s.name === 'composeUp')).toMatchObject({ state: 'compensated', message: 'rolled back to the previous stack' });
    await recordHistory(h.client.workflow.getHandle(childId), 'workspace-overlap-rolled-back');

    const commandFails: FakeOptions['fail'] = (step) => (step === 'runDevcontainerCommands' ? ApplicationFailure.nonRetryable('postCreateCommand failed on wftest-1 (exit code 3)', 'DevcontainerCommandFailed') : undefined);
    const failed = await deploy({ fail: commandFails, plan: withCommands }, input(1)).then(withSummary);
    expect(failed.summary?.vms[0].error).toBe('postCreateCommand failed on wftest-1 (exit code 3); rolled back to the previous stack');
    expect(done(failed.calls, 'rollbackStack')).toEqual(['wftest-1']);

    // A VM that had no stack before this run: nothing to roll back, and the message does not claim it.
    const fresh = await deploy({ fail: unhealthy, createdVms: ['wftest-1'] }, input(1)).then(withSummary);
    expect(fresh.summary?.vms[0].error).toBe('app (running, unhealthy)');
  });

  it('a failure before composeUp has no stack to roll back', async () => {
    const fail: FakeOptions['fail'] = (step) => (step === 'uploadStack' ? new KamalDevError('config', 'env file .env.missing not found') : undefined);
    const { calls } = await deploy({ fail }, input(1));
    expect(calls.filter((c) => c.step === 'rollbackStack')).toEqual([]);
  });

  it('keeps a failed VM when the plan says onFailure: keep; with no VM deployed the deploy fails, its summary in the details', async () => {
    const fail: FakeOptions['fail'] = (step) => (step === 'verifyStack' ? ApplicationFailure.nonRetryable('unhealthy', 'KamalDevError.compose') : undefined);
    // Made by this run, so there is no earlier stack to roll back to: the failure is the VM's own.
    const { error, calls, handle } = await deploy({ fail, createdVms: ['wftest-1'], plan: (i) => fakePlan(i, { onFailure: 'keep' }) }, input(1));
    expect(done(calls, 'destroyVm')).toEqual([]);
    const cause = (error as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause).toMatchObject({ type: DEPLOY_FAILED_TYPE, message: 'no VM deployed: wftest-1: unhealthy' });
    expect(cause.details?.[0]).toMatchObject({ outcome: 'failed', vms: [{ name: 'wftest-1', state: 'failed', error: 'unhealthy', cleanup: 'kept' }] });
    const description = await handle.describe();
    expect(description.status.name).toBe('FAILED');
    expect(description.searchAttributes).toMatchObject({ KamalDevPhase: ['failed'] });
    await recordHistory(handle, 'deploy-all-failed-overlap');
  });

  it('a failed redeploy keeps the VM it found; only the VM this run made is destroyed', async () => {
    const fail: FakeOptions['fail'] = (step) => (step === 'verifyStack' ? ApplicationFailure.nonRetryable('app is unhealthy', 'StackUnhealthy') : undefined);
    const { summary, calls, handle, vms } = await deploy({ fail, existingVms: ['wftest-1'] }, input(2));
    expect(summary?.vms.map((v) => v.state) ?? []).not.toContain('deployed');
    expect(done(calls, 'destroyVm').sort()).toEqual(['wftest-1', 'wftest-2']); // both compensations ran...
    expect([...vms.entries()]).toEqual([['wftest-1', 'an-earlier-deploy']]); // ...and only the VM made by this run went
    const child = h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`);
    const markers = ((await child.fetchHistory()).events ?? []).flatMap((e) =>
      Object.values(e.markerRecordedEventAttributes?.details ?? {}).flatMap((p) => (p.payloads ?? []).map((x) => Buffer.from(x.data ?? []).toString())),
    );
    expect(markers.join('\n')).toContain(DESTROY_ONLY_CREATED);
    await recordHistory(child, 'workspace-overlap-redeploy-keeps-found-vm');
  });

  it('prepares every VM while the images build: only composeUp waits for the push', async () => {
    const withDb = (i: DeployInput) => { const p = fakePlan(i); return { ...p, stack: { ...p.stack, compose: { services: { app: { image: 'x' }, db: { image: 'postgres:16' } } } } }; };
    // The build goes on only once both VMs have pulled Postgres: with VMs made after the build it never would (30 s, then the order fails).
    const gate = (step: string, live: FakeCall[]) => step !== 'buildImages' || done(live, 'pullImages').length === 2;
    const { summary, calls, handle } = await deploy({ gate, plan: withDb }, input(2));
    expect(summary?.outcome).toBe('deployed');
    const at = (step: string, event: FakeCall['event'], vm?: string) => calls.findIndex((c) => c.step === step && c.event === event && c.vm === vm);
    const pushed = at('pushImages', 'done');
    for (const vm of ['wftest-1', 'wftest-2']) {
      // Provisioned, bootstrapped, given its stack and Postgres before the push has finished...
      for (const step of ['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'pullImages']) expect(at(step, 'done', vm)).toBeLessThan(at('buildImages', 'done'));
      // ...and started only with the pushed images.
      expect(at('composeUp', 'start', vm)).toBeGreaterThan(pushed);
    }
    await recordHistory(handle, 'deploy-overlap-with-unbuilt-images');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-overlap-pulls-unbuilt-images');
  });

  it('a build failure leaves no VM behind: the VMs made meanwhile are destroyed, the build images removed', async () => {
    const fail: FakeOptions['fail'] = (step) => (step === 'buildImages' ? new KamalDevError('build', 'Dockerfile:3: RUN exited 1') : undefined);
    const gate = (step: string, live: FakeCall[]) => step !== 'buildImages' || done(live, 'provisionVm').length === 2;
    const { summary, error, calls, handle, vms } = await deploy({ fail, gate }, input(2));
    expect(summary).toBeUndefined();
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(causes(error)).toContain('Dockerfile:3: RUN exited 1'); // the build's own failure, not a VM's
    expect(calls.filter((c) => c.step === 'buildImages').map((c) => c.attempt)).toEqual([1]); // a build error is not retried
    expect(done(calls, 'removeBuildImages')).toEqual(['removeBuildImages']);
    expect(done(calls, 'provisionVm').sort()).toEqual(['wftest-1', 'wftest-2']);
    expect(done(calls, 'destroyVm').sort()).toEqual(['wftest-1', 'wftest-2']);
    expect(done(calls, 'composeUp')).toEqual([]);
    expect([...vms.keys()]).toEqual([]);
    expect((await h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`).describe()).status.name).toBe('FAILED');
    await recordHistory(handle, 'deploy-build-fails-overlap');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-overlap-build-failed');
  });

  it('a push failure leaves no VM behind either', async () => {
    const fail: FakeOptions['fail'] = (step) => (step === 'pushImages' ? new KamalDevError('config', 'registry: unauthorized') : undefined);
    const { error, calls, vms } = await deploy({ fail }, input(2));
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(done(calls, 'removeBuildImages')).toHaveLength(1);
    expect(done(calls, 'composeUp')).toEqual([]);
    expect([...vms.keys()]).toEqual([]);
  });

  it('a cancel during the build destroys every VM made meanwhile and undoes the build', async () => {
    const delay = (step: string) => (step === 'buildImages' ? 60_000 : 20);
    const { error, calls, handle, vms } = await deploy({ delay }, input(3), async (workflowId, live) => {
      const started = Date.now();
      while (done(live, 'uploadStack').length < 3 && Date.now() - started < 30_000) await sleep(100);
      await h.client.workflow.getHandle(workflowId).cancel();
    });
    expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    expect(done(calls, 'buildImages')).toEqual([]);
    expect(done(calls, 'removeBuildImages')).toEqual(['removeBuildImages']);
    expect(done(calls, 'destroyVm').sort()).toEqual(['wftest-1', 'wftest-2', 'wftest-3']);
    expect([...vms.keys()]).toEqual([]);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    await recordHistory(handle, 'deploy-cancelled-during-build');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-overlap-cancelled-during-build');
  });

  it('the workspace travels as a seed: pushed on the source queue beside the build, unpacked on each VM while the images build', async () => {
    // Existing hosts: local VMs (provider docker) would keep every VM step on the source queue (src/workflows/queues.ts).
    const hosts: DeployPlan['provider'] = { type: 'ssh', hosts: [{ host: '127.0.0.1', port: 2201 }, { host: '127.0.0.1', port: 2202 }] };
    const withWorkspace = (i: DeployInput) => { const p = fakePlan(i); return { ...p, provider: hosts, stack: { ...p.stack, workspace: { source: '/src/wftest', target: 'workspaces/wftest', exclude: [] } } }; };
    // The build goes on only once both VMs have unpacked the seed: with the seed sent after the push it never would.
    const gate = (step: string, live: FakeCall[]) => step !== 'buildImages' || done(live, 'seedWorkspace').length === 2;
    const { summary, calls, handle } = await deploy({ plan: withWorkspace, gate }, input(2));
    expect(summary?.outcome).toBe('deployed');
    expect(summary?.seed).toMatchObject({ digest: 'sha256:3333' });
    const source = calls.find((c) => c.step === 'pushWorkspaceSeed')?.taskQueue;
    expect(source).toMatch(/-source$/);
    const at = (step: string, vm?: string) => calls.findIndex((c) => c.step === step && c.event === 'done' && c.vm === vm);
    for (const vm of ['wftest-1', 'wftest-2']) {
      expect(at('seedWorkspace', vm)).toBeGreaterThan(at('pushWorkspaceSeed'));
      expect(at('seedWorkspace', vm)).toBeLessThan(at('buildImages'));
      expect(at('composeUp', vm)).toBeGreaterThan(at('pushImages'));
    }
    // Nothing on a VM runs where the source is.
    expect(calls.filter((c) => c.vm && c.taskQueue === source)).toEqual([]);
    await recordHistory(handle, 'deploy-workspace-seed');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-from-seed');
  });

  it('the seed is unpacked while the unbuilt images are pulled, not after them', async () => {
    const hosts: DeployPlan['provider'] = { type: 'ssh', hosts: [{ host: '127.0.0.1', port: 2201 }] };
    const withDb = (i: DeployInput) => {
      const p = fakePlan(i);
      const services = { app: { image: 'x' }, db: { image: 'postgres:16' } };
      return { ...p, provider: hosts, stack: { ...p.stack, compose: { services }, workspace: { source: '/src/wftest', target: 'workspaces/wftest', exclude: [] } } };
    };
    // pullImages ends only once the seed is unpacked: run one after the other, it never would.
    const gate = (step: string, live: FakeCall[]) => step !== 'pullImages' || done(live, 'seedWorkspace').length === 1;
    const { summary, calls, handle } = await deploy({ plan: withDb, gate }, input(1));
    expect(summary?.outcome).toBe('deployed');
    const at = (step: string, event: string) => calls.findIndex((c) => c.step === step && c.event === event && c.vm === 'wftest-1');
    expect(at('seedWorkspace', 'done')).toBeLessThan(at('pullImages', 'done'));
    expect(at('composeUp', 'start')).toBeGreaterThan(at('pullImages', 'done'));
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-seed-beside-pulls');
  });

  it('--skip-push has no registry to carry the workspace: its VM steps run on the source queue', async () => {
    const withWorkspace = (i: DeployInput) => { const p = fakePlan(i); return { ...p, stack: { ...p.stack, workspace: { source: '/src/wftest', target: 'workspaces/wftest', exclude: [] } } }; };
    const { summary, calls } = await deploy({ plan: withWorkspace }, input(1, { skipPush: true }));
    expect(summary?.outcome).toBe('deployed');
    expect(summary?.seed).toBeUndefined();
    const source = calls.find((c) => c.step === 'buildImages')?.taskQueue;
    expect(new Set(calls.filter((c) => c.vm).map((c) => c.taskQueue))).toEqual(new Set([source]));
    expect(done(calls, 'seedWorkspace')).toEqual([]);
  });

  it('--skip-build checks the images instead of building; --skip-push pushes nothing', async () => {
    const { summary, calls } = await deploy({}, input(1, { skipBuild: true, skipPush: true }));
    expect(summary?.outcome).toBe('deployed');
    expect(done(calls, 'checkImages')).toHaveLength(1);
    expect(calls.filter((c) => c.step === 'buildImages' || c.step === 'pushImages')).toEqual([]);
  });

  it('cancelling mid-deploy destroys every VM that was created', async () => {
    const delay = (step: string, vm?: string) => (step === 'provisionVm' ? (vm === 'wftest-3' ? 2500 : 300) : step === 'bootstrapVm' ? 5000 : 50);
    const { error, calls, handle } = await deploy({ delay }, input(3), async (workflowId, live) => {
      const started = Date.now();
      while (done(live, 'provisionVm').length < 2 && Date.now() - started < 30_000) await sleep(100);
      await h.client.workflow.getHandle(workflowId).cancel();
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause?.name).toBe('CancelledFailure');
    const provisioned = calls.filter((c) => c.step === 'provisionVm' && c.event === 'start').map((c) => c.vm).sort();
    expect(provisioned).toEqual(['wftest-1', 'wftest-2', 'wftest-3']);
    expect(done(calls, 'destroyVm').sort()).toEqual(provisioned);
    expect(done(calls, 'composeUp')).toEqual([]);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    await recordHistory(handle, 'deploy-cancelled-overlap');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-3`), 'workspace-overlap-cancelled');
  });

  it('retries a transient error and does not retry a user error', async () => {
    const fail: FakeOptions['fail'] = (step, vm, attempt) => {
      if (step === 'waitForSsh' && vm === 'wftest-1' && attempt < 3) return new Error('connect ECONNREFUSED 127.0.0.1:2201');
      if (step === 'uploadStack' && vm === 'wftest-2') return new KamalDevError('config', 'env file .env.missing not found', { file: 'compose.yaml' });
      return undefined;
    };
    const { summary, calls } = await deploy({ fail }, input(2));
    const attempts = (step: string, vm: string) => calls.filter((c) => c.step === step && c.vm === vm && c.event === 'start').map((c) => c.attempt);
    expect(attempts('waitForSsh', 'wftest-1')).toEqual([1, 2, 3]);
    expect(attempts('uploadStack', 'wftest-2')).toEqual([1]);
    expect(summary?.vms.map((v) => v.state)).toEqual(['deployed', 'failed']);
    expect(summary?.vms[1].error).toBe('compose.yaml: env file .env.missing not found');
  });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The messages of an error and of its causes, outermost first. */
const causes = (error: unknown): string[] => (error instanceof Error ? [error.message, ...causes((error as { cause?: unknown }).cause)] : []);
