import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DeployPlan } from '../spec/plan';
import { knownHostsFile, recordedHostKeys } from '../ssh/knownHosts';
import { refuseWhenLocked } from './lock';
import type { LifecycleInput, ProfileOverrides } from '../workflows/types';

export type LifecycleWorkflow = 'RemoveWorkspaces' | 'StopWorkspaces' | 'StartWorkspaces';

/**
 * Starts remove/stop/start of a deployment's VMs as a durable workflow; the plan was resolved
 * locally. Refused (KamalDevError 'busy') while another operation runs on the project's VMs.
 */
export async function startLifecycle(
  client: Client,
  workflow: LifecycleWorkflow,
  plan: DeployPlan,
  options: { sharedQueue: string; sourceQueue?: string; names?: string[]; profiles?: ProfileOverrides; now?: Date },
): Promise<WorkflowHandle> {
  // Local VMs exist on this machine only: their steps run on its queue.
  const vmTaskQueue = plan.provider.type === 'docker' ? options.sourceQueue : undefined;
  // Every VM of a lifecycle command was reached before: a worker elsewhere pins what this machine recorded, and trusts no new key.
  const hostKeys = recordedHostKeys(knownHostsFile(plan));
  const pinned: DeployPlan = { ...plan, ssh: { ...plan.ssh, hostKeys, knownHostsOnly: true } };
  const input: LifecycleInput = { plan: pinned, names: options.names, profiles: options.profiles, ...(vmTaskQueue ? { vmTaskQueue } : {}) };
  const verb = workflow.replace('Workspaces', '').toLowerCase();
  await refuseWhenLocked(client, plan.identity, verb);
  const stamp = (options.now ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return client.workflow.start(workflow, {
    taskQueue: options.sharedQueue,
    workflowId: `${verb}-${plan.service}-${stamp}`,
    args: [input],
    staticSummary: `kamal-dev ${verb} of ${plan.service}`,
  });
}
