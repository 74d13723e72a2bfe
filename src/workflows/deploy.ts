import {
  CancellationScope,
  CancelledFailure,
  defineQuery,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { BuiltImage, DeployActivities, PushedImage } from '../activities/types';
import type { DeployPlan } from '../spec/plan';
import { compensate } from './compensation';
import { profile } from './policies';
import { failureMessage, PHASE_ATTRIBUTE, PROGRESS_QUERY, SERVICE_ATTRIBUTE, setPhase, StepTracker } from './progress';
import type { DeployOutcome, DeployPhase, DeployProgress, DeploySummary, DeployWorkspacesInput, WorkspaceProgress } from './types';
import { DeployWorkspace } from './workspace';

const progressQuery = defineQuery<DeployProgress>(PROGRESS_QUERY);

/** Plan, build and push once on the source machine, then one DeployWorkspace child per VM, in parallel. */
export async function DeployWorkspaces(input: DeployWorkspacesInput): Promise<DeploySummary> {
  const { sourceTaskQueue, profiles, ...deployInput } = input;
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
  upsertMemo({ service: plan.service, tag: plan.tag, count: plan.vms.length });

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
  await Promise.allSettled(progress.vms.map((vm, i) => deployOne(plan, vm, plan.vms[i].index, input)));

  const outcome = outcomeOf(progress.vms);
  if (CancellationScope.current().consideredCancelled) {
    finish(progress, 'cancelled', 'cancelled');
    throw new CancelledFailure('deploy cancelled; created VMs were compensated');
  }
  finish(progress, outcome === 'failed' ? 'failed' : 'done', `${countDeployed(progress.vms)}/${progress.vms.length} VM(s) deployed`);
  return { workflowId, service: plan.service, tag: plan.tag, outcome, images, pushed, vms: progress.vms };
}

async function deployOne(plan: DeployPlan, vm: WorkspaceProgress, index: number, input: DeployWorkspacesInput): Promise<void> {
  vm.state = 'running';
  try {
    const result = await executeChild(DeployWorkspace, {
      workflowId: vm.workflowId,
      args: [{ plan, vm: { deployment: plan.service, name: vm.name, index }, skipPush: input.skipPush, profiles: input.profiles }],
      typedSearchAttributes: [
        { key: SERVICE_ATTRIBUTE, value: plan.service },
        { key: PHASE_ATTRIBUTE, value: 'provision' },
      ],
      memo: { service: plan.service, vm: vm.name },
    });
    Object.assign(vm, { state: 'deployed', vm: result.vm, containers: result.containers });
  } catch (error) {
    const message = failureMessage(error);
    Object.assign(vm, { state: message === 'cancelled' ? 'cancelled' : 'failed', error: message });
    throw error;
  }
}

function countDeployed(vms: WorkspaceProgress[]): number {
  return vms.filter((v) => v.state === 'deployed').length;
}

function outcomeOf(vms: WorkspaceProgress[]): DeployOutcome {
  const deployed = countDeployed(vms);
  if (deployed === vms.length) return 'deployed';
  return deployed === 0 ? 'failed' : 'partial';
}

function finish(progress: DeployProgress, phase: DeployPhase, summary: string): void {
  progress.phase = phase;
  setPhase(phase);
  upsertMemo({ summary });
  setCurrentDetails(`**${progress.service ?? progress.workflowId}** ${phase}: ${summary}`);
}
