import {
  CancellationScope,
  CancelledFailure,
  condition,
  defineQuery,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { BuiltImage, DeployActivities, PushedImage } from '../activities/types';
import type { DeployPlan } from '../spec/plan';
import { compensate } from './compensation';
import { workspaceCommitSignal, workspaceReportSignal } from './handoff';
import { LOCK_PATCH, withLock, type HeldLock } from './lock';
import { concludeCancelled, conclude, countDeployed, finish, outcomeOf } from './outcome';
import { profile } from './policies';
import { failureMessage, PHASE_ATTRIBUTE, PROGRESS_QUERY, SERVICE_ATTRIBUTE, setPhase, StepTracker } from './progress';
import type { DeployPhase, DeployProgress, DeploySummary, DeployWorkspacesInput, WorkspaceProgress } from './types';
import { DeployWorkspace } from './workspace';

const progressQuery = defineQuery<DeployProgress>(PROGRESS_QUERY);

/**
 * Plan, build and push once on the source machine, then one DeployWorkspace child per VM, in
 * parallel, holding the project's operation lock throughout (histories from before the lock replay
 * without it, and without the changes that came with it).
 */
export async function DeployWorkspaces(input: DeployWorkspacesInput): Promise<DeploySummary> {
  const current = patched(LOCK_PATCH);
  if (current && input.identity) return withLock(input.identity, 'deploy', (lock) => deployAll(input, true, lock));
  return deployAll(input, current);
}

async function deployAll(input: DeployWorkspacesInput, current: boolean, lock?: HeldLock): Promise<DeploySummary> {
  const { sourceTaskQueue, profiles, identity: _identity, ...deployInput } = input;
  const onSource = (name: 'quick' | 'long' | 'compensation') => proxyActivities<DeployActivities>(profile(name, profiles, sourceTaskQueue));
  const [quick, long, undo] = [onSource('quick'), onSource('long'), onSource('compensation')];

  const { workflowId, runId } = workflowInfo();
  const tracker = new StepTracker(['planDeploy', 'buildImages', 'pushImages']);
  const progress: DeployProgress = { workflowId, phase: 'plan', steps: tracker.steps, vms: [] };
  setHandler(progressQuery, () => progress);
  const enter = (phase: DeployPhase) => {
    progress.phase = phase;
    setPhase(phase);
  };

  enter('plan');
  const plan = await tracker.run('planDeploy', () => quick.planDeploy(deployInput), (p) => `${p.service}:${p.tag}, ${p.vms.length} VM(s)`);
  Object.assign(progress, { service: plan.service, tag: plan.tag });
  upsertSearchAttributes([{ key: SERVICE_ATTRIBUTE, value: plan.service }]);
  upsertMemo({ service: plan.service, tag: plan.tag, count: plan.vms.length, ...(current ? { vms: plan.vms.map((v) => v.name) } : {}) });

  const buildId = runId;
  let images: BuiltImage[];
  let pushed: PushedImage[] = [];
  try {
    enter('build');
    images = input.skipBuild
      ? await tracker.run('buildImages', () => quick.checkImages({ plan }), (i) => `using existing ${i.map((x) => x.image).join(', ')}`)
      : await tracker.run('buildImages', () => long.buildImages({ plan, buildId, noCache: input.noCache }), (i) => i.map((x) => x.image).join(', '));
    if (input.skipPush) tracker.mark('pushImages', 'skipped');
    else {
      enter('push');
      pushed = await tracker.run('pushImages', () => long.pushImages({ plan, images }), (p) => p.map((x) => x.digest).join(', '));
    }
  } catch (error) {
    // Nothing was provisioned yet; only what the build left behind needs removing.
    if (!input.skipBuild) await compensate([{ name: 'removeBuildImages', undo: () => undo.removeBuildImages({ buildId }) }]);
    finish(progress, CancellationScope.current().consideredCancelled ? 'cancelled' : 'failed', failureMessage(error));
    throw error;
  }

  enter('vms');
  progress.vms = plan.vms.map((v) => ({ name: v.name, workflowId: `${workflowId}/vm/${v.name}`, state: 'pending', steps: [] }));
  const children = new Map<string, ChildWorkflowHandle<typeof DeployWorkspace>>();
  if (current) setHandler(workspaceReportSignal, (report) => void Object.assign(progress.vms.find((v) => v.name === report.name) ?? {}, pick(report)));
  // Should this run be terminated, the lock stays held until these children have compensated.
  lock?.holding(progress.vms.map((vm) => vm.workflowId));
  const runs = progress.vms.map((vm, i) => deployOne(plan, vm, plan.vms[i].index, input, current ? children : undefined, lock?.workflowId));
  const committed = current && (await commitWhenSettled(progress.vms, children));
  await Promise.allSettled(runs);

  const summary: DeploySummary = { workflowId, service: plan.service, tag: plan.tag, outcome: outcomeOf(progress.vms), images, pushed, vms: progress.vms };
  if (current) {
    if (!committed && CancellationScope.current().consideredCancelled) concludeCancelled(progress);
    return conclude(progress, summary);
  }
  if (CancellationScope.current().consideredCancelled) {
    finish(progress, 'cancelled', 'cancelled');
    throw new CancelledFailure('deploy cancelled; created VMs were compensated');
  }
  finish(progress, summary.outcome === 'failed' ? 'failed' : 'done', `${countDeployed(progress.vms)}/${progress.vms.length} VM(s) deployed`);
  return summary;
}

/**
 * Once every child has reported (deployed, or failed and compensated), lets the deployed ones
 * return. A cancel before that reaches every child, deployed or not, and their compensations run.
 */
async function commitWhenSettled(vms: WorkspaceProgress[], children: Map<string, ChildWorkflowHandle<typeof DeployWorkspace>>): Promise<boolean> {
  const settled = (v: WorkspaceProgress) => v.state === 'deployed' || v.state === 'failed' || v.state === 'cancelled';
  try {
    await condition(() => vms.every(settled));
  } catch {
    return false; // cancelled: the children got the cancel with it
  }
  await Promise.all(vms.filter((v) => v.state === 'deployed').map((v) => children.get(v.name)?.signal(workspaceCommitSignal)));
  return true;
}

async function deployOne(
  plan: DeployPlan,
  vm: WorkspaceProgress,
  index: number,
  input: DeployWorkspacesInput,
  children?: Map<string, ChildWorkflowHandle<typeof DeployWorkspace>>,
  lock?: string,
): Promise<void> {
  vm.state = 'running';
  try {
    const child = await startChild(DeployWorkspace, {
      workflowId: vm.workflowId,
      args: [{ plan, vm: { deployment: plan.service, name: vm.name, index }, skipPush: input.skipPush, profiles: input.profiles, ...(children ? { holdForCommit: true } : {}), ...(lock ? { lock } : {}) }],
      typedSearchAttributes: [
        { key: SERVICE_ATTRIBUTE, value: plan.service },
        { key: PHASE_ATTRIBUTE, value: 'provision' },
      ],
      memo: { service: plan.service, vm: vm.name },
      // A terminated deploy still lets each child compensate (destroy what this run created).
      ...(children ? { parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL } : {}),
    });
    children?.set(vm.name, child);
    const result = await child.result();
    Object.assign(vm, { state: 'deployed', vm: result.vm, containers: result.containers });
  } catch (error) {
    const message = failureMessage(error);
    // Recorded, not rethrown: the siblings go on, and the outcome counts it.
    Object.assign(vm, { state: message === 'cancelled' ? 'cancelled' : 'failed', error: message });
  }
}

/** What a child's report may change in the parent's view (not its workflow id or steps). */
function pick(report: WorkspaceProgress): Partial<WorkspaceProgress> {
  const { state, vm, containers, error, cleanup } = report;
  return { state, vm, containers, error, cleanup };
}
