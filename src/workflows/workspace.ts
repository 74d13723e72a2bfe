import { proxyActivities, setCurrentDetails, setHandler, defineQuery, workflowInfo, isCancellation, patched } from '@temporalio/workflow';
import type { VmHandle } from '../domain/vm';
import type { DeployActivities } from '../activities/types';
import type { DestroyOutcome } from '../providers/types';
import { compensate, type Compensation } from './compensation';
import { awaitCommit, reportSettled } from './handoff';
import { sayClosed } from './lock';
import { listenForImages, unbuiltServices } from './images';
import { profile } from './policies';
import { HOST_KEY_PATCH } from './queues';
import { ROLLBACK_PATCH, ROLLED_BACK, withNote } from './rollback';
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

/** With awaitImages: the wait for the parent's build and push, after what needs no image of it. */
const IMAGES_STEP = 'waitForImages';

/** With fromSeed: the workspace and the stack's files, from the seed that came with the images. */
const SEED_STEP = 'seedWorkspace';

/**
 * From this patch on, the seed is unpacked while the unbuilt images are pulled (both are I/O on the
 * VM through the same registry access), not after them. Histories from before pulled, then unpacked.
 */
export const SEED_BESIDE_PULLS = 'kamal-dev-seed-beside-pulls';

/**
 * Like Promise.all, but settles only once every step has: a compensation never runs while a
 * sibling activity still works on the VM. The first failure is the one thrown.
 */
async function allSucceeded(steps: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function stepsOf(plan: DeployWorkspaceInput['plan'], awaitImages: boolean | undefined, unbuilt: string[], fromSeed: boolean): string[] {
  const beforeUp = WORKSPACE_STEPS.indexOf('composeUp');
  const early = awaitImages ? [...(unbuilt.length > 0 ? ['pullImages'] : []), ...(fromSeed ? [SEED_STEP] : []), IMAGES_STEP] : [];
  const steps = [...WORKSPACE_STEPS.slice(0, beforeUp), ...early, ...WORKSPACE_STEPS.slice(beforeUp)];
  return plan.stack.lifecycle ? [...steps, COMMANDS_STEP] : steps;
}

const progressQuery = defineQuery<WorkspaceProgress>(PROGRESS_QUERY);
/** From here on a compensation destroys only the VM its own run made (provisionVm's createdBy). */
export const DESTROY_ONLY_CREATED = 'destroy-only-created-vms';

/**
 * One VM: provision, reach, bootstrap, upload the stack, start it, verify it, run devcontainer.json's
 * commands; undo on failure or cancel. With awaitImages (src/workflows/images.ts) it is started
 * before the build: the unbuilt images are pulled, then it waits for the parent's push to start.
 */
export async function DeployWorkspace(input: DeployWorkspaceInput): Promise<WorkspaceResult> {
  if (!input.lock) return deployWorkspace(input);
  try {
    return await deployWorkspace(input);
  } finally {
    await sayClosed(input.lock);
  }
}

async function deployWorkspace(input: DeployWorkspaceInput): Promise<WorkspaceResult> {
  const { plan, vm: ref, skipPush, profiles, holdForCommit, awaitImages, vmTaskQueue, queues = {} } = input;
  const fromSeed = !!(awaitImages && input.fromSeed);
  const onVm = vmTaskQueue ?? queues.vm;
  const act = (name: Parameters<typeof profile>[0], queue = onVm) => proxyActivities<DeployActivities>(profile(name, profiles, queue));
  const [upload, long, provision, ssh, verify, undo, pull] = [
    act('upload'),
    act('long'),
    act('provision'),
    act('ssh'),
    act('verify'),
    act('compensation'),
    act('long', queues.pull ?? onVm),
  ];
  // The seed comes from the registry too: with the local registry, through the source machine's forward.
  const seedFrom = act('upload', queues.pull ?? onVm);
  const waitForImages = awaitImages ? listenForImages() : undefined;
  const unbuilt = awaitImages ? unbuiltServices(plan) : [];
  const tracker = new StepTracker(stepsOf(plan, awaitImages, unbuilt, fromSeed));
  const progress: WorkspaceProgress = { name: ref.name, workflowId: workflowInfo().workflowId, state: 'running', steps: tracker.steps };
  setHandler(progressQuery, () => progress);

  const compensations: Compensation[] = [];
  // Runs started before ownership existed replay as they ran: their undo took the VM of that name.
  const createdBy = patched(DESTROY_ONLY_CREATED) ? workflowInfo().workflowId : undefined;
  let destroyed: DestroyOutcome | undefined;
  let rolledBack = false;
  try {
    setPhase('provision');
    if (plan.onFailure !== 'keep') {
      // Pushed before provisioning, so a VM half-made by this run's failed or cancelled provision is
      // destroyed too; it carries createdBy from its first moment, and a VM this run found does not.
      const destroyVm = async () => void (destroyed = (await undo.destroyVm({ plan, vm: ref, createdBy }))?.outcome ?? 'destroyed');
      compensations.push({ name: 'destroyVm', undo: destroyVm });
    }
    let vm = await tracker.run('provisionVm', () => provision.provisionVm({ plan, vm: ref, createdBy }), provisioned);
    progress.vm = vm;
    setPhase('bootstrap');
    const reached = await tracker.run('waitForSsh', () => ssh.waitForSsh({ plan, vm }));
    // Whichever worker runs a later step talks to the host this one authenticated (public data).
    if (reached?.hostKey && patched(HOST_KEY_PATCH)) progress.vm = vm = { ...vm, hostKey: reached.hostKey };
    await tracker.run('bootstrapVm', () => long.bootstrapVm({ plan, vm }), (r) => `docker ${r.docker}, compose ${r.compose}${r.installed ? ' (installed)' : ''}`);
    setPhase('compose');
    const uploadInput = fromSeed ? { plan, vm, fromSeed } : { plan, vm };
    await tracker.run('uploadStack', () => upload.uploadStack(uploadInput), (r) => `${r.stackDir}${r.workspace ? `, workspace ${r.workspace}` : ''}`);
    // The release is this workflow: only its own compensation may roll back the stack it swapped out.
    const release = workflowInfo().workflowId;
    if (patched(ROLLBACK_PATCH)) {
      compensations.push({
        name: 'rollbackStack',
        undo: async () => void (rolledBack = (await undo.rollbackStack({ plan, vm, release })).rolledBack),
      });
    }
    const pullUnbuilt = async () => {
      if (unbuilt.length === 0) return;
      const summary = (r: { started: string[] } | void) => `${unbuilt.join(', ')}${r?.started.length ? `; started ${r.started.join(', ')}` : ''}`;
      await tracker.run('pullImages', () => pull.pullImages({ plan, vm, services: unbuilt }), summary);
    };
    const unpackSeed = async () => {
      const seed = await waitForImages!.seed();
      await tracker.run(SEED_STEP, () => seedFrom.seedWorkspace({ plan, vm, seed }), (r) => (r.workspace ? `workspace ${r.workspace}` : 'stack files'));
    };
    if (fromSeed && patched(SEED_BESIDE_PULLS)) {
      setPhase('images');
      await allSucceeded([pullUnbuilt(), unpackSeed()]);
    } else {
      await pullUnbuilt();
      // Before the seed: histories of the first seed version set the phase, then unpacked it.
      if (waitForImages) setPhase('images');
      if (fromSeed) await unpackSeed();
    }
    if (waitForImages) await tracker.run(IMAGES_STEP, waitForImages.images);
    const pulled = unbuilt.length > 0 ? { pulled: unbuilt } : {};
    const upSummary = (r: { unchanged: boolean } | void) => (r?.unchanged ? 'stack unchanged: left running' : undefined);
    await tracker.run('composeUp', () => pull.composeUp({ plan, vm, skipPush, release, ...pulled }), upSummary);
    setPhase('verify');
    const containers = await tracker.run('verifyStack', () => verify.verifyStack({ plan, vm }), (c) => `${c.length} container(s) up`);
    progress.containers = containers;
    if (plan.stack.lifecycle) {
      await tracker.run(COMMANDS_STEP, () => long.runDevcontainerCommands({ plan, vm }), commandsSummary);
    }
    progress.state = 'deployed';
    setPhase('deployed');
    setCurrentDetails(`**${ref.name}** deployed at ${vm.ip}: ${containers.map((c) => `${c.service} ${c.state}`).join(', ')}`);
    if (holdForCommit) await awaitCommit(progress);
    return { vm, containers };
  } catch (error) {
    progress.state = isCancellation(error) ? 'cancelled' : 'failed';
    progress.error = failureMessage(error);
    setPhase(progress.state);
    await compensate(compensations, (name) => {
      if (name === 'rollbackStack' && rolledBack) tracker.mark('composeUp', 'compensated', ROLLED_BACK);
      if (name !== 'destroyVm' || !destroyed) return;
      tracker.mark('provisionVm', 'compensated', DISPOSALS[destroyed]);
      if (destroyed !== 'gone') progress.cleanup = destroyed === 'destroyed' ? 'removed' : 'kept';
    });
    if (!progress.cleanup && progress.vm) progress.cleanup = 'kept';
    if (rolledBack) progress.error = `${progress.error}; ${ROLLED_BACK}`;
    setCurrentDetails(`**${ref.name}** ${progress.state}: ${progress.error}${progress.cleanup ? `; VM ${progress.cleanup}` : ''}`);
    if (holdForCommit) await reportSettled(progress);
    throw rolledBack && progress.state === 'failed' ? withNote(error, ROLLED_BACK) : error;
  }
}

const DISPOSALS: Record<DestroyOutcome, string> = {
  destroyed: 'VM destroyed',
  gone: 'no VM was made',
  kept: 'VM kept: this run found it, it did not make it',
};

function provisioned(vm: VmHandle): string {
  const how = vm.created === undefined ? '' : vm.created ? 'created, ' : 'found, ';
  return `${how}${vm.ip} (ssh port ${vm.ssh.port})`;
}
