import type { DeployPlan } from '../spec/plan';

/** From here on a deploy's children run what needs the source machine on its queue (vmQueues). */
export const LOCAL_ON_SOURCE_PATCH = 'kamal-dev-local-vms-on-source';
/** From here on waitForSsh's host key is pinned by every later step of the VM (VmHandle.hostKey). */
export const HOST_KEY_PATCH = 'kamal-dev-host-key-pinned';

/** Where a VM's steps go when not to the shared queue; absent: any worker. */
export interface VmQueues {
  /** Every step of the VM: local VMs (provider docker) listen on 127.0.0.1 of the machine that made them. */
  vm?: string;
  /** Pulls (pullImages, composeUp): the local registry is on the source machine, reached through a forward from it. */
  pull?: string;
}

export function vmQueues(plan: Pick<DeployPlan, 'provider' | 'registry'>, sourceTaskQueue: string): VmQueues {
  if (plan.provider.type === 'docker') return { vm: sourceTaskQueue, pull: sourceTaskQueue };
  return plan.registry.local ? { pull: sourceTaskQueue } : {};
}
