import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeployInput } from '../../src/activities/types';
import { markRecorded, recordUnrecordedDeploys } from '../../src/client/unrecordedDeploys';
import { knownHostsFile } from '../../src/ssh/knownHosts';
import { readState, stateFilePath } from '../../src/state/devState';
import { startDeploy } from '../../src/client/deploy';
import type { DeployPlan } from '../../src/spec/plan';
import type { DeploySummary } from '../../src/workflows/types';
import { fakeActivities, type FakeCall } from '../support/fakeActivities';
import { fakePlan } from '../support/fakePlan';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, recordHistory, startWorker, testIdentity, workflowBundle, type Harness } from '../support/temporalHarness';

jest.setTimeout(120_000);

const input: DeployInput = { projectDir: '/src/wftest', count: 2, skipBuild: false, skipPush: false };
const VM_STEPS = ['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'composeUp', 'verifyStack'];
const sshHosts: DeployPlan['provider'] = { type: 'ssh', hosts: [{ host: '127.0.0.1', port: 2201 }, { host: '127.0.0.1', port: 2202 }] };

/** Which queue each VM step ran on, and which host key it was given: what src/workflows/queues.ts and HOST_KEY_PATCH decide. */
describeWithLab(['temporal'], 'where VM steps run, and the host key they pin', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectLab();
    await workflowBundle();
  });
  afterAll(() => h?.close());

  async function deploy(plan: Partial<DeployPlan>, identity = testIdentity('queues')) {
    const { activities, calls } = fakeActivities({ hostKeys: true, plan: (i) => fakePlan(i, plan) });
    const q = queues('queues');
    const worker = await startWorker(h, q, activities);
    const handle = await startDeploy(h.client, input, { sharedQueue: q.shared, sourceQueue: q.source, identity });
    const summary: DeploySummary = await worker.runUntil(handle.result());
    const vmSteps = calls.filter((c): c is FakeCall & { vm: string } => c.event === 'done' && c.vm !== undefined && VM_STEPS.includes(c.step));
    const queueOf = (step: string) => [...new Set(vmSteps.filter((c) => c.step === step).map((c) => (c.taskQueue === q.source ? 'source' : c.taskQueue === q.shared ? 'shared' : c.taskQueue)))];
    return { summary, handle, vmSteps, where: Object.fromEntries(VM_STEPS.map((step) => [step, queueOf(step)])) };
  }

  it('local VMs (provider docker): every VM step runs on the source queue; later steps pin the host key waitForSsh saw', async () => {
    const { summary, handle, vmSteps, where } = await deploy({});
    expect(summary.outcome).toBe('deployed');
    expect(where).toEqual(Object.fromEntries(VM_STEPS.map((step) => [step, ['source']])));
    for (const call of vmSteps) {
      const pinned = !['provisionVm', 'waitForSsh'].includes(call.step);
      expect([call.step, call.hostKey]).toEqual([call.step, pinned ? `ssh-ed25519 ${call.vm}-key` : undefined]);
    }
    // The source machine records it from the result (src/client/sourceRecords.ts).
    expect(summary.vms.map((v) => v.vm?.hostKey)).toEqual(['ssh-ed25519 wftest-1-key', 'ssh-ed25519 wftest-2-key']);
    await recordHistory(handle, 'deploy-local-vms-on-source');
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-1`), 'workspace-local-vms-pinned-host-key');
  });

  it('existing hosts (provider ssh) with the local registry: only the pulls run on the source queue', async () => {
    const { summary, where } = await deploy({ provider: sshHosts, registry: { server: 'localhost:5555', namespace: 'lab', local: true } });
    expect(summary.outcome).toBe('deployed');
    expect(where).toEqual({ ...Object.fromEntries(VM_STEPS.map((step) => [step, ['shared']])), composeUp: ['source'] });
  });

  it('existing hosts with a remote registry: every VM step is any worker\'s', async () => {
    const { handle, where } = await deploy({ provider: sshHosts });
    expect(where).toEqual(Object.fromEntries(VM_STEPS.map((step) => [step, ['shared']])));
    await recordHistory(h.client.workflow.getHandle(`${handle.workflowId}/vm/wftest-2`), 'workspace-ssh-hosts-any-worker');
  });

  it('a deploy that completed without this machine following it (deploy --detach) is recorded in .kamal/ at the next look, once', async () => {
    const source = mkdtempSync(join(tmpdir(), 'kamal-dev-records-'));
    const identity = testIdentity('records');
    const look = () => recordUnrecordedDeploys(h.client, source, identity);
    try {
      // The look `deploy` makes before it starts: the first one only sets the mark.
      expect(await look()).toEqual([]);
      const { summary, handle } = await deploy({ provider: sshHosts }, identity);
      expect(summary.outcome).toBe('deployed');
      // Visibility learns of the close a moment after the result.
      let recorded: string[] = [];
      for (let attempt = 0; attempt < 50 && recorded.length === 0; attempt++) {
        recorded = await look();
        if (recorded.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(recorded).toEqual([handle.workflowId]);
      const state = readState(stateFilePath(source));
      expect(Object.keys(state.deployments).sort()).toEqual(['wftest-1', 'wftest-2']);
      const vms = summary.vms.map((v) => v.vm!);
      expect(state.deployments['wftest-1']).toMatchObject({ status: 'running', ssh: vms[0].ssh, vm_id: vms[0].id });
      expect(readFileSync(knownHostsFile({ projectDir: source }), 'utf8').split('\n').filter(Boolean).sort()).toEqual(
        vms.map((vm) => `[127.0.0.1]:${vm.ssh.port} ssh-ed25519 ${vm.name}-key`),
      );
      expect(await look()).toEqual([]);
      // A deploy that `deploy` followed to its end and recorded itself moves the mark: not recorded again.
      const followed = await deploy({ provider: sshHosts }, identity);
      await markRecorded(source, (await followed.handle.describe()).closeTime!);
      const closed = `WorkflowId = "${followed.handle.workflowId}" AND ExecutionStatus = "Completed"`;
      for (let attempt = 0; attempt < 50 && (await h.client.workflow.count(closed)).count === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await look()).toEqual([]);
    } finally {
      rmSync(source, { recursive: true, force: true });
    }
  });
});
