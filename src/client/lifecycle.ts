import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DeployPlan } from '../spec/plan';
import type { LifecycleInput, ProfileOverrides } from '../workflows/types';

export type LifecycleWorkflow = 'RemoveWorkspaces' | 'StopWorkspaces' | 'StartWorkspaces';

/** Starts remove/stop/start of a deployment's VMs as a durable workflow; the plan was resolved locally. */
export function startLifecycle(
  client: Client,
  workflow: LifecycleWorkflow,
  plan: DeployPlan,
  options: { sharedQueue: string; names?: string[]; profiles?: ProfileOverrides; now?: Date },
): Promise<WorkflowHandle> {
  const input: LifecycleInput = { plan, names: options.names, profiles: options.profiles };
  const verb = workflow.replace('Workspaces', '').toLowerCase();
  const stamp = (options.now ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return client.workflow.start(workflow, {
    taskQueue: options.sharedQueue,
    workflowId: `${verb}-${plan.service}-${stamp}`,
    args: [input],
    staticSummary: `kamal-dev ${verb} of ${plan.service}`,
  });
}
