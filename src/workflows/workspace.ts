import { proxyActivities, setCurrentDetails, setHandler, defineQuery, workflowInfo, isCancellation } from '@temporalio/workflow';
import type { DeployActivities } from '../activities/types';
import { compensate, type Compensation } from './compensation';
import { profile } from './policies';
import { failureMessage, PROGRESS_QUERY, setPhase, StepTracker } from './progress';
import type { DeployWorkspaceInput, WorkspaceProgress, WorkspaceResult } from './types';

export const WORKSPACE_STEPS = ['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'composeUp', 'verifyStack'];
/** Only for a plan with lifecycle commands (plans recorded before it existed have none). */
const COMMANDS_STEP = 'runDevcontainerCommands';

/** After waitFor (default postCreateCommand) a failed hook leaves the VM deployed; the step says what failed. */
function commandsSummary(result: { ran: string[]; failed?: string[] }): string {
  const ran = result.ran.length ? `ran ${result.ran.join(' and ')}` : 'ran before in this container';
  return result.failed?.length ? `${ran}; failed after waitFor: ${result.failed.join('; ')}` : ran;
}

const progressQuery = defineQuery<WorkspaceProgress>(PROGRESS_QUERY);

/**
 * One VM: provision, reach, bootstrap, upload the stack, start it, verify it, run devcontainer.json's
 * commands; undo on failure or cancel.
 */
export async function DeployWorkspace(input: DeployWorkspaceInput): Promise<WorkspaceResult> {
  const { plan, vm: ref, skipPush, profiles } = input;
  const act = (name: Parameters<typeof profile>[0]) => proxyActivities<DeployActivities>(profile(name, profiles));
  const [quick, long, provision, ssh, verify, undo] = [
    act('quick'),
    act('long'),
    act('provision'),
    act('ssh'),
    act('verify'),
    act('compensation'),
  ];
  const tracker = new StepTracker(plan.stack.lifecycle ? [...WORKSPACE_STEPS, COMMANDS_STEP] : WORKSPACE_STEPS);
  const progress: WorkspaceProgress = { name: ref.name, workflowId: workflowInfo().workflowId, state: 'running', steps: tracker.steps };
  setHandler(progressQuery, () => progress);

  const compensations: Compensation[] = [];
  try {
    setPhase('provision');
    if (plan.onFailure !== 'keep') {
      // Pushed before provisioning: a VM half-made by a failed or cancelled provision is destroyed too.
      compensations.push({ name: 'destroyVm', undo: () => undo.destroyVm({ plan, vm: ref }) });
    }
    const vm = await tracker.run('provisionVm', () => provision.provisionVm({ plan, vm: ref }), (v) => `${v.ip} (ssh port ${v.ssh.port})`);
    progress.vm = vm;
    setPhase('bootstrap');
    await tracker.run('waitForSsh', () => ssh.waitForSsh({ plan, vm }));
    await tracker.run('bootstrapVm', () => long.bootstrapVm({ plan, vm }), (r) => `docker ${r.docker}, compose ${r.compose}${r.installed ? ' (installed)' : ''}`);
    setPhase('compose');
    await tracker.run('uploadStack', () => quick.uploadStack({ plan, vm }), (r) => r.stackDir);
    await tracker.run('composeUp', () => long.composeUp({ plan, vm, skipPush }));
    setPhase('verify');
    const containers = await tracker.run('verifyStack', () => verify.verifyStack({ plan, vm }), (c) => `${c.length} container(s) up`);
    progress.containers = containers;
    if (plan.stack.lifecycle) {
      await tracker.run(COMMANDS_STEP, () => long.runDevcontainerCommands({ plan, vm }), commandsSummary);
    }
    progress.state = 'deployed';
    setPhase('deployed');
    setCurrentDetails(`**${ref.name}** deployed at ${vm.ip}: ${containers.map((c) => `${c.service} ${c.state}`).join(', ')}`);
    return { vm, containers };
  } catch (error) {
    progress.state = isCancellation(error) ? 'cancelled' : 'failed';
    progress.error = failureMessage(error);
    setPhase(progress.state);
    await compensate(compensations, (name) => {
      if (name === 'destroyVm') tracker.mark('provisionVm', 'compensated', 'VM destroyed');
    });
    setCurrentDetails(`**${ref.name}** ${progress.state}: ${progress.error}`);
    throw error;
  }
}
