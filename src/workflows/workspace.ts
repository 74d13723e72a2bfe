import { proxyActivities, setCurrentDetails, setHandler, defineQuery, workflowInfo, isCancellation, patched } from '@temporalio/workflow';
import type { DeployActivities } from '../activities/types';
import { compensate, type Compensation } from './compensation';
import { profile } from './policies';
import { ROLLBACK_PATCH, ROLLED_BACK, withNote } from './rollback';
import { failureMessage, PROGRESS_QUERY, setPhase, StepTracker } from './progress';
import type { DeployWorkspaceInput, WorkspaceProgress, WorkspaceResult } from './types';

export const WORKSPACE_STEPS = ['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'composeUp', 'verifyStack'];
/** Only for a plan with postCreateCommand or postStartCommand (plans recorded before it existed have neither). */
const COMMANDS_STEP = 'runDevcontainerCommands';

const progressQuery = defineQuery<WorkspaceProgress>(PROGRESS_QUERY);

/**
 * One VM: provision, reach, bootstrap, upload the stack, start it, verify it, run devcontainer.json's
 * commands; undo on failure or cancel.
 */
export async function DeployWorkspace(input: DeployWorkspaceInput): Promise<WorkspaceResult> {
  const { plan, vm: ref, skipPush, profiles } = input;
  const act = (name: Parameters<typeof profile>[0]) => proxyActivities<DeployActivities>(profile(name, profiles));
  const [upload, long, provision, ssh, verify, undo] = [
    act('upload'),
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
  let rolledBack = false;
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
    await tracker.run('uploadStack', () => upload.uploadStack({ plan, vm }), (r) => `${r.stackDir}${r.workspace ? `, workspace ${r.workspace}` : ''}`);
    // The release is this workflow: only its own compensation may roll back the stack it swapped out.
    const release = workflowInfo().workflowId;
    if (patched(ROLLBACK_PATCH)) {
      compensations.push({
        name: 'rollbackStack',
        undo: async () => void (rolledBack = (await undo.rollbackStack({ plan, vm, release })).rolledBack),
      });
    }
    await tracker.run('composeUp', () => long.composeUp({ plan, vm, skipPush, release }));
    setPhase('verify');
    const containers = await tracker.run('verifyStack', () => verify.verifyStack({ plan, vm }), (c) => `${c.length} container(s) up`);
    progress.containers = containers;
    if (plan.stack.lifecycle) {
      await tracker.run(COMMANDS_STEP, () => long.runDevcontainerCommands({ plan, vm }), (r) => (r.ran.length ? `ran ${r.ran.join(' and ')}` : 'ran before in this container'));
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
      if (name === 'rollbackStack' && rolledBack) tracker.mark('composeUp', 'compensated', ROLLED_BACK);
    });
    if (rolledBack) progress.error = `${progress.error}; ${ROLLED_BACK}`;
    setCurrentDetails(`**${ref.name}** ${progress.state}: ${progress.error}`);
    throw rolledBack && progress.state === 'failed' ? withNote(error, ROLLED_BACK) : error;
  }
}
