import type { DeployPlan } from '../spec/plan';
import { vmQueues } from '../workflows/queues';

/**
 * With a configured Temporal server other machines may run workers; say which steps stay here
 * (src/workflows/queues.ts) so nobody waits for a remote worker that will never get them.
 */
export function pinnedStepsNotice(plan: DeployPlan | undefined, serverConfigured: boolean, sourceQueue: string): string | undefined {
  if (!plan || !serverConfigured) return undefined;
  const queues = vmQueues(plan, sourceQueue);
  if (queues.vm) return `provider docker: local VMs exist on this machine only, so every VM step runs here (queue ${sourceQueue}), not on other workers; keep this machine up until the deploy ends`;
  if (queues.pull) return `local registry: it runs on this machine, so the VMs' pulls run here (queue ${sourceQueue}); other workers take the other VM steps`;
  return undefined;
}
