import { condition, ParentClosePolicy, startChild, type ChildWorkflowHandle } from '@temporalio/workflow';
import type { DeployPlan } from '../spec/plan';
import { workspaceCommitSignal } from './handoff';
import { imagesSignal, seedSignal, type ImagesOutcome } from './images';
import type { WorkspaceSeed } from '../spec/plan';
import type { VmQueues } from './queues';
import { failureMessage, PHASE_ATTRIBUTE, SERVICE_ATTRIBUTE } from './progress';
import type { DeployWorkspacesInput, WorkspaceProgress } from './types';
import { DeployWorkspace } from './workspace';

export type WorkspaceChild = ChildWorkflowHandle<typeof DeployWorkspace>;

export interface ChildOptions {
  /** The child reports and waits for the commit (src/workflows/handoff.ts). */
  holdForCommit: boolean;
  /** Started before the build: it waits for imagesSignal before composeUp (src/workflows/images.ts). */
  awaitImages: boolean;
  /** The lock workflow the child tells when it closes (src/workflows/lock.ts); absent before it. */
  lock?: string;
  /** What of the child runs on the source machine (src/workflows/queues.ts); absent before LOCAL_ON_SOURCE_PATCH. */
  queues?: VmQueues;
  /** The workspace comes as a seed with the images signal (SEED_PATCH). */
  fromSeed?: boolean;
  /** The queue of the child's VM steps (the source's, for --skip-push). */
  vmTaskQueue?: string;
}

/** Starts the DeployWorkspace child of one VM (the start command is issued at once, in VM order). */
export function startWorkspace(plan: DeployPlan, vm: WorkspaceProgress, index: number, input: DeployWorkspacesInput, options: ChildOptions): Promise<WorkspaceChild> {
  vm.state = 'running';
  return startChild(DeployWorkspace, {
    workflowId: vm.workflowId,
    args: [
      {
        plan,
        vm: { deployment: plan.service, name: vm.name, index },
        skipPush: input.skipPush,
        profiles: input.profiles,
        ...(options.holdForCommit ? { holdForCommit: true } : {}),
        ...(options.awaitImages ? { awaitImages: true } : {}),
        ...(options.lock ? { lock: options.lock } : {}),
        ...(options.queues && (options.queues.vm || options.queues.pull) ? { queues: options.queues } : {}),
        ...(options.fromSeed ? { fromSeed: true } : {}),
        ...(options.vmTaskQueue ? { vmTaskQueue: options.vmTaskQueue } : {}),
      },
    ],
    typedSearchAttributes: [
      { key: SERVICE_ATTRIBUTE, value: plan.service },
      { key: PHASE_ATTRIBUTE, value: 'provision' },
    ],
    memo: { service: plan.service, vm: vm.name },
    // A terminated deploy still lets each child compensate (destroy what this run created).
    ...(options.holdForCommit ? { parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL } : {}),
  });
}

/** Waits for a started child and records how it ended in the parent's view of its VM. */
export async function followWorkspace(vm: WorkspaceProgress, started: Promise<WorkspaceChild>, children?: Map<string, WorkspaceChild>): Promise<void> {
  try {
    const child = await started;
    children?.set(vm.name, child);
    const result = await child.result();
    Object.assign(vm, { state: 'deployed', vm: result.vm, containers: result.containers });
  } catch (error) {
    const message = failureMessage(error);
    // Recorded, not rethrown: the siblings go on, and the outcome counts it.
    Object.assign(vm, { state: message === 'cancelled' ? 'cancelled' : 'failed', error: message });
  }
}

/** Tells every child how build and push went; a child that has ended already (it failed early) is skipped. */
export async function sendImages(started: Promise<WorkspaceChild>[], outcome: ImagesOutcome): Promise<void> {
  await Promise.all(started.map((s) => s.then((child) => child.signal(imagesSignal, outcome)).catch(() => undefined)));
}

/** Gives every child the workspace seed as soon as it is pushed; a child that has ended already is skipped. */
export async function sendSeed(started: Promise<WorkspaceChild>[], seed: WorkspaceSeed): Promise<void> {
  await Promise.all(started.map((s) => s.then((child) => child.signal(seedSignal, seed)).catch(() => undefined)));
}

/**
 * Once every child has reported (deployed, or failed and compensated), lets the deployed ones
 * return. A cancel before that reaches every child, deployed or not, and their compensations run.
 */
export async function commitWhenSettled(vms: WorkspaceProgress[], children: Map<string, WorkspaceChild>): Promise<boolean> {
  const settled = (v: WorkspaceProgress) => v.state === 'deployed' || v.state === 'failed' || v.state === 'cancelled';
  try {
    await condition(() => vms.every(settled));
  } catch {
    return false; // cancelled: the children got the cancel with it
  }
  await Promise.all(vms.filter((v) => v.state === 'deployed').map((v) => children.get(v.name)?.signal(workspaceCommitSignal)));
  return true;
}

/** What a child's report may change in the parent's view (not its workflow id or steps). */
export function pick(report: WorkspaceProgress): Partial<WorkspaceProgress> {
  const { state, vm, containers, error, cleanup } = report;
  return { state, vm, containers, error, cleanup };
}
