import { hostname } from 'node:os';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { DeployPlan } from '../spec/plan';
import type { DeployProgress, StepProgress } from '../workflows/types';

/**
 * When a deploy no longer needs the machine that started it (`deploy --detach`):
 * - `pushed`: once build, push and the workspace seed are done (every VM step runs on any worker);
 * - `pulled`: with the local registry, which lives here, once every VM has pulled (composeUp);
 * - `end`: with local VMs (provider docker) or --skip-push, whose VM steps run here, never before it ends.
 */
export type DetachPoint = 'pushed' | 'pulled' | 'end';

export function detachPointOf(plan: DeployPlan, skipPush: boolean): DetachPoint {
  if (plan.provider.type === 'docker' || skipPush) return 'end';
  return plan.registry.local ? 'pulled' : 'pushed';
}

export function detachPointWords(point: DetachPoint, plan: DeployPlan): string {
  if (point === 'pushed') return 'once the images and the workspace seed are pushed';
  if (point === 'pulled') return `once every VM has pulled from the local registry (${plan.registry.server}, on this machine)`;
  const why = plan.provider.type === 'docker' ? 'its VMs are local (provider docker)' : '--skip-push copies the images from this machine';
  return `only when it ends: ${why}`;
}

const finished = (step: StepProgress | undefined) => !step || step.state === 'done' || step.state === 'skipped';
const over = (step: StepProgress | undefined) => !!step && ['done', 'failed', 'compensated', 'skipped'].includes(step.state);

/** Whether the progress has reached the detach point (the deploy's own end is seen by following it). */
export function reached(point: DetachPoint, progress: DeployProgress): boolean {
  if (point === 'end' || progress.waitingForWorker || progress.steps.length === 0) return false;
  const sourceDone = progress.steps.every(finished) && ['vms', 'done', 'partial'].includes(progress.phase);
  if (!sourceDone || point === 'pushed') return sourceDone;
  return progress.vms.length > 0 && progress.vms.every((vm) => vm.state !== 'running' && vm.state !== 'pending' || over(vm.steps.find((s) => s.name === 'composeUp')));
}

/** A worker that polled the shared queue within this window is taken to be running. */
const RECENT_MS = 120_000;

/**
 * Workers other than this process's own that poll the shared queue: without one, nothing runs the
 * deploy once this command (whose embedded worker runs it) exits.
 */
export async function otherWorkers(client: Client, namespace: string, sharedQueue: string): Promise<string[]> {
  const self = `${process.pid}@${hostname()}`;
  const seen = new Set<string>();
  // TASK_QUEUE_TYPE_WORKFLOW and _ACTIVITY (a type-only import: @temporalio/proto comes with the client).
  for (const taskQueueType of [1, 2] as temporal.api.enums.v1.TaskQueueType[]) {
    const answer = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: sharedQueue }, taskQueueType });
    for (const poller of answer.pollers ?? []) {
      const at = poller.lastAccessTime?.seconds ? Number(poller.lastAccessTime.seconds) * 1000 : 0;
      if (poller.identity && poller.identity !== self && Date.now() - at < RECENT_MS) seen.add(poller.identity);
    }
  }
  return [...seen];
}

/** What `deploy --detach` says before the deploy starts. */
export function detachNote(point: DetachPoint, plan: DeployPlan, others: string[], sharedQueue: string): string {
  if (point === 'end' || others.length > 0) return `--detach: this command returns ${detachPointWords(point, plan)}`;
  return (
    `--detach: no other worker polls ${sharedQueue}, so this command's own worker runs the deploy: following it to the end ` +
    '(with `kamal-dev worker` running on a machine that stays up, --detach returns after the push)'
  );
}
