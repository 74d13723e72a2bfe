import { defineQuery, patched, proxyActivities, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { VmHandle } from '../domain/vm';
import type { Activities } from '../activities/types';
import { LOCK_PATCH, withLock } from './lock';
import { profile } from './policies';
import { failureMessage, PROGRESS_QUERY, SERVICE_ATTRIBUTE, setPhase } from './progress';
import type { DeployProgress, LifecycleInput, LifecycleSummary, WorkspaceProgress } from './types';

type Action = 'remove' | 'stop' | 'start';

const progressQuery = defineQuery<DeployProgress>(PROGRESS_QUERY);

/** `docker compose down -v` on every VM of the deployment, then destroys the VMs. */
export function RemoveWorkspaces(input: LifecycleInput): Promise<LifecycleSummary> {
  return forEachVm('remove', input);
}

export function StopWorkspaces(input: LifecycleInput): Promise<LifecycleSummary> {
  return forEachVm('stop', input);
}

/**
 * Starts stopped VMs and reports their containers (compose restarts them: `restart: unless-stopped`).
 * With a postStartCommand in the plan, each VM's stack is verified healthy first and the command runs.
 */
export function StartWorkspaces(input: LifecycleInput): Promise<LifecycleSummary> {
  return forEachVm('start', input);
}

/** Holds the project's operation lock (histories from before it replay without). */
function forEachVm(action: Action, input: LifecycleInput): Promise<LifecycleSummary> {
  if (patched(LOCK_PATCH)) return withLock(input.plan.identity, action, () => runOnEachVm(action, input));
  return runOnEachVm(action, input);
}

async function runOnEachVm(action: Action, { plan, names, profiles, vmTaskQueue }: LifecycleInput): Promise<LifecycleSummary> {
  const act = (name: Parameters<typeof profile>[0]) => proxyActivities<Activities>(profile(name, profiles, vmTaskQueue));
  const [quick, provision, long, verify, undo] = [act('quick'), act('provision'), act('long'), act('verify'), act('compensation')];
  const progress: DeployProgress = { workflowId: workflowInfo().workflowId, service: plan.service, phase: 'vms', steps: [], vms: [] };
  setHandler(progressQuery, () => progress);
  upsertSearchAttributes([{ key: SERVICE_ATTRIBUTE, value: plan.service }]);
  setPhase(action);

  const vms = (await quick.listVms({ plan })).filter((vm) => !names?.length || names.includes(vm.name));
  progress.vms = vms.map((vm) => ({ name: vm.name, workflowId: progress.workflowId, state: 'running', steps: [], vm }));
  const unknown = (names ?? []).filter((name) => !vms.some((vm) => vm.name === name));
  const one = async (vm: VmHandle, entry: WorkspaceProgress): Promise<void> => {
    if (action === 'remove') {
      await undo.removeStack({ plan, vm });
      await undo.destroyVm({ plan, vm });
    } else if (action === 'stop') {
      // A cloud server's stop waits minutes for the machine (UpCloud: up to 5), not a quick step's 2.
      await provision.stopVm({ plan, vm });
    } else {
      entry.vm = await provision.startVm({ plan, vm });
      // Plans recorded before devcontainer commands existed have no lifecycle: their replay is unchanged.
      if (plan.stack.lifecycle?.postStart.length) {
        // The create hooks ran at deploy; a start whose container was replaced runs them again.
        await verify.verifyStack({ plan, vm: entry.vm });
        await long.runDevcontainerCommands({ plan, vm: entry.vm });
      }
      entry.containers = await quick.stackStatus({ plan, vm: entry.vm });
    }
  };
  await Promise.allSettled(
    vms.map(async (vm, i) => {
      const entry = progress.vms[i];
      try {
        await one(vm, entry);
        entry.state = 'deployed';
      } catch (error) {
        Object.assign(entry, { state: 'failed', error: failureMessage(error) });
      }
    }),
  );
  for (const name of unknown) {
    progress.vms.push({ name, workflowId: progress.workflowId, state: 'failed', steps: [], error: `no VM named ${name} in deployment ${plan.service}` });
  }
  const failed = progress.vms.filter((v) => v.state === 'failed').length;
  progress.phase = failed ? 'failed' : 'done';
  setPhase(progress.phase);
  setCurrentDetails(`**${plan.service}** ${action}: ${progress.vms.length - failed}/${progress.vms.length} VM(s) done`);
  return {
    service: plan.service,
    vms: progress.vms.map((v) => ({ name: v.name, state: v.state === 'failed' ? 'failed' : 'done', error: v.error, vm: v.vm, containers: v.containers })),
  };
}
