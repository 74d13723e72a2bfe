import { stateFilePath } from '../../src/state/devState';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time';
import type { Activities } from '../../src/activities/types';
import { createVmActivities } from '../../src/activities/vm';
import { startLifecycle, type LifecycleWorkflow } from '../../src/client/lifecycle';
import { DockerProvider } from '../../src/providers/docker';
import { LABELS } from '../../src/providers/types';
import { createUpcloudProvider, type UpcloudConfig } from '../../src/providers/upcloud';
import type { DeployPlan } from '../../src/spec/plan';
import type { LifecycleSummary, ProfileOverrides } from '../../src/workflows/types';
import { fakeActivities } from '../support/fakeActivities';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, recordHistory, startWorker, workflowBundle, type Harness } from '../support/temporalHarness';
import { UpcloudFake } from '../support/upcloud-fake';
import { destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(240_000);

/** Retries come soon in a test; the attempts are the profiles' own (compensation: 10). */
const PROFILES: ProfileOverrides = { quick: { initialInterval: '200ms' }, provision: { initialInterval: '200ms' }, compensation: { initialInterval: '200ms' } };

type Attempts = Record<string, number>;

/** The real VM activities, counting the attempts Temporal makes of each. */
function countedActivities(vm: ReturnType<typeof createVmActivities>): { activities: Activities; attempts: Attempts } {
  const attempts: Attempts = {};
  const counted = Object.fromEntries(
    Object.entries(vm).map(([name, fn]) => [name, (...args: unknown[]) => ((attempts[name] = (attempts[name] ?? 0) + 1), (fn as (...a: unknown[]) => unknown)(...args))]),
  );
  return { activities: { ...fakeActivities().activities, ...(counted as unknown as Activities) }, attempts };
}

describeWithLab(['temporal', 'vmImage'], 'fault: remove and stop on a real Temporal server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectLab();
    await workflowBundle();
  });
  afterAll(() => h?.close());

  async function runLifecycle(activities: Activities, workflow: LifecycleWorkflow, plan: DeployPlan, history?: string): Promise<{ summary: LifecycleSummary; handle: WorkflowHandle }> {
    const q = queues('lifecycle-fault');
    const worker = await startWorker(h, q, activities);
    const handle = await startLifecycle(h.client, workflow, plan, { sharedQueue: q.shared, profiles: PROFILES, now: new Date() });
    const summary = await worker.runUntil(handle.result() as Promise<LifecycleSummary>);
    if (history) await recordHistory(handle, history);
    return { summary, handle };
  }

  /** The timeouts the server was given for each attempt of an activity type. */
  async function scheduledTimeouts(handle: WorkflowHandle, activityType: string) {
    const { events } = await handle.fetchHistory();
    return (events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === activityType)
      .map((a) => ({ startToClose: tsToMs(a!.startToCloseTimeout) / 1000, heartbeat: tsToMs(a!.heartbeatTimeout) / 1000 }));
  }

  describe('a stopped local VM', () => {
    const service = `flt-rmstop-${process.pid}`;
    const vm = createVmActivities({ resolveSecret: async (name) => name });
    afterAll(async () => {
      await vm.close();
      await destroyDeployment(service);
    });

    it('is removed without SSH into it: one attempt of each step, nothing left', async () => {
      const project = await testProject('rmstop');
      const plan = testPlan({ projectDir: project.dir, keyPath: project.keyPath, service });
      const handle = await vm.provisionVm({ plan, vm: { deployment: service, name: `${service}-1`, index: 1 } });
      await vm.stopVm({ plan, vm: handle });
      const { activities, attempts } = countedActivities(vm);

      const { summary } = await runLifecycle(activities, 'RemoveWorkspaces', plan);

      expect(summary.vms).toEqual([expect.objectContaining({ name: `${service}-1`, state: 'done' })]);
      expect(attempts).toMatchObject({ removeStack: 1, destroyVm: 1 });
      expect(await new DockerProvider({ sshUser: 'root', identity: plan.identity, stateFile: stateFilePath(project.dir) }).list({ [LABELS.deployment]: service })).toEqual([]);
      rmSync(project.dir, { recursive: true, force: true });
    });
  });

  describe('UpCloud API faults during stop and destroy', () => {
    const service = `flt-upclife-${process.pid}`;
    let fake: UpcloudFake;
    let dir: string;
    let plan: DeployPlan;
    let config: UpcloudConfig;
    // The API client's own retries are cut to 2 so that Temporal's retries of the step are what is tested.
    const providerFor = () =>
      createUpcloudProvider(config, { identity: plan.identity, resolveSecret: (n) => (n === 'U' ? fake.username : fake.password), pollIntervalMs: 100, stopTimeoutMs: 1_500, requestTimeoutMs: 1_000, retry: { attempts: 2, baseDelayMs: 50 } });

    beforeAll(async () => {
      fake = await UpcloudFake.start();
      // Nothing must SSH here: 127.0.0.1:22 refuses.
      fake.publicIp = '127.0.0.1';
      dir = mkdtempSync(join(tmpdir(), 'kamal-dev-upclife-'));
      mkdirSync(join(dir, '.kamal'));
      writeFileSync(join(dir, '.kamal', 'key'), '');
      config = { type: 'upcloud', zone: 'de-fra1', plan: '1xCPU-1GB', apiUrl: fake.url, usernameSecret: 'U', passwordSecret: 'P' } as UpcloudConfig;
      plan = testPlan({ projectDir: dir, keyPath: join(dir, '.kamal', 'key'), service, provider: config });
      const labels = { [LABELS.managed]: 'true', [LABELS.service]: service, [LABELS.deployment]: service, [LABELS.index]: '1' };
      await providerFor().provision({ name: `${service}-1`, labels, sshPublicKey: 'ssh-ed25519 AAAA test' });
    });
    afterAll(async () => {
      await Promise.all(made.map((vm) => vm.close()));
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const made: ReturnType<typeof createVmActivities>[] = [];
    const activities = () => {
      made.push(createVmActivities({ resolveSecret: async (n) => n, providers: { upcloud: () => providerFor() } }));
      return countedActivities(made[made.length - 1]);
    };

    it('stop: 5xx and a shutdown that hangs past the stop timeout are retried by Temporal until the server is stopped', async () => {
      fake.fail({ status: 503, times: 2, method: 'POST', path: '/stop' });
      fake.stopsIgnored = 1;
      const { activities: acts, attempts } = activities();

      const { summary, handle } = await runLifecycle(acts, 'StopWorkspaces', plan, 'stop-workspaces-upcloud');

      expect(summary.vms).toEqual([expect.objectContaining({ state: 'done' })]);
      expect(attempts.stopVm).toBeGreaterThanOrEqual(2);
      expect([...fake.servers.values()].map((s) => s.state)).toEqual(['stopped']);
      // A cloud stop waits minutes for the machine (UpCloud: up to 5): the provision profile's 15 minutes
      // and its heartbeat, not a quick step's 2 minutes with none.
      expect(await scheduledTimeouts(handle, 'stopVm')).toEqual([{ startToClose: 15 * 60, heartbeat: 30 }]);
    });

    it('remove: DELETE answered 5xx and not answered in time is retried by Temporal until the server is gone', async () => {
      fake.fail({ status: 503, times: 2, method: 'DELETE' });
      fake.fail({ status: 504, times: 2, method: 'DELETE', delayMs: 3_000 });
      const { activities: acts, attempts } = activities();

      const { summary } = await runLifecycle(acts, 'RemoveWorkspaces', plan);

      expect(summary.vms).toEqual([expect.objectContaining({ state: 'done' })]);
      expect(attempts.removeStack).toBe(1);
      expect(attempts.destroyVm).toBeGreaterThanOrEqual(2);
      expect(fake.servers.size).toBe(0);
    });
  });
});
