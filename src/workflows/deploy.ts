import { CancellationScope, CancelledFailure, defineQuery, patched, proxyActivities, setHandler, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { BuiltImage, PushedImage } from '../domain/images';
import type { DeployActivities } from '../activities/types';
import type { WorkspaceSeed } from '../spec/plan';
import { commitWhenSettled, followWorkspace, pick, sendImages, sendSeed, startWorkspace, type WorkspaceChild } from './children';
import { compensate } from './compensation';
import { workspaceReportSignal } from './handoff';
import { carriesSeed, OVERLAP_PATCH, SEED_PATCH } from './images';
import { LOCK_PATCH, RELEASE_AT_COMMIT, withLock, type HeldLock } from './lock';
import { concludeCancelled, conclude, countDeployed, finish, outcomeOf } from './outcome';
import { profile } from './policies';
import { LOCAL_ON_SOURCE_PATCH, vmQueues } from './queues';
import { failureMessage, PROGRESS_QUERY, SERVICE_ATTRIBUTE, setPhase, StepTracker } from './progress';
import type { DeployPhase, DeployProgress, DeploySummary, DeployWorkspacesInput } from './types';

const progressQuery = defineQuery<DeployProgress>(PROGRESS_QUERY);

/**
 * Plan, then build and push once on the source machine while one DeployWorkspace child per VM
 * prepares its VM, in parallel, holding the project's operation lock throughout. Histories from
 * before the overlap (OVERLAP_PATCH) replay build first, children after; those from before the
 * lock replay without it, and without the changes that came with it.
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
  const overlap = current && patched(OVERLAP_PATCH);
  const seedPatched = overlap && patched(SEED_PATCH);
  const seeding = seedPatched && !input.skipPush && carriesSeed(plan);
  if (seeding) tracker.add('pushWorkspaceSeed');

  const buildId = runId;
  const buildAndPush = async (): Promise<Built> => {
    enter('build');
    const images = input.skipBuild
      ? await tracker.run('buildImages', () => quick.checkImages({ plan }), (i) => `using existing ${i.map((x) => x.image).join(', ')}`)
      : await tracker.run('buildImages', () => long.buildImages({ plan, buildId, noCache: input.noCache }), describeBuilt);
    if (input.skipPush) {
      tracker.mark('pushImages', 'skipped');
      return { images, pushed: [] };
    }
    enter('push');
    return { images, pushed: await tracker.run('pushImages', () => long.pushImages({ plan, images }), (p) => p.map((x) => x.digest).join(', ')) };
  };
  // The seed is made and pushed while the images build; both must have landed before a VM goes on.
  const buildAndSeed = async (started: Promise<WorkspaceChild>[]): Promise<Built> => {
    if (!seeding) return buildAndPush();
    // Each VM unpacks the seed as soon as it is there, while the images still build.
    const seedPush = tracker.run('pushWorkspaceSeed', () => long.pushWorkspaceSeed({ plan }), describeSeed).then(async (seed) => {
      await sendSeed(started, seed);
      return seed;
    });
    const [built, seed] = await Promise.allSettled([buildAndPush(), seedPush]);
    if (built.status === 'rejected') throw built.reason;
    if (seed.status === 'rejected') throw seed.reason;
    return { ...built.value, seed: seed.value };
  };
  const buildFailed = async (error: unknown, children: Promise<unknown>[] = []): Promise<never> => {
    // What the build left behind is removed while the children undo whatever they made.
    const removeBuild = input.skipBuild ? undefined : compensate([{ name: 'removeBuildImages', undo: () => undo.removeBuildImages({ buildId }) }]);
    await Promise.all([Promise.allSettled(children), removeBuild]);
    const cancelled = CancellationScope.current().consideredCancelled;
    // The children's compensations ran: say which VMs they removed, as a cancel at any later moment does.
    if (cancelled && children.length > 0) concludeCancelled(progress);
    finish(progress, cancelled ? 'cancelled' : 'failed', failureMessage(error));
    throw error;
  };
  const listVms = () => {
    progress.vms = plan.vms.map((v) => ({ name: v.name, workflowId: `${workflowId}/vm/${v.name}`, state: 'pending', steps: [] }));
    if (current) setHandler(workspaceReportSignal, (report) => void Object.assign(progress.vms.find((v) => v.name === report.name) ?? {}, pick(report)));
  };
  const children = new Map<string, WorkspaceChild>();
  // --skip-push has no registry: its VM steps read this machine's images and files, so they run here.
  const vmTaskQueue = seedPatched && input.skipPush ? sourceTaskQueue : undefined;
  const queues = patched(LOCAL_ON_SOURCE_PATCH) ? vmQueues(plan, sourceTaskQueue) : undefined;
  const options = { holdForCommit: current, awaitImages: overlap, lock: lock?.workflowId, fromSeed: seeding, vmTaskQueue, queues };

  // Should this run be terminated, the lock stays held until the children named to it have compensated:
  // they are named in the workflow task that starts them.
  let built: Built;
  let runs: Promise<void>[];
  if (overlap) {
    // Every VM is made ready while the images build; only composeUp waits for them (src/workflows/images.ts).
    listVms();
    lock?.holding(progress.vms.map((vm) => vm.workflowId));
    const started = progress.vms.map((vm, i) => startWorkspace(plan, vm, plan.vms[i].index, input, options));
    runs = progress.vms.map((vm, i) => followWorkspace(vm, started[i], children));
    try {
      built = await buildAndSeed(started);
    } catch (error) {
      if (!CancellationScope.current().consideredCancelled) await sendImages(started, { ready: false, error: failureMessage(error) });
      return buildFailed(error, runs); // a cancel reached the children by itself
    }
    await sendImages(started, { ready: true, ...(built.seed ? { seed: built.seed } : {}) });
    enter('vms');
  } else {
    // Nothing is provisioned before the build here: only what the build left behind needs removing.
    built = await buildAndPush().catch((error: unknown) => buildFailed(error));
    enter('vms');
    listVms();
    lock?.holding(progress.vms.map((vm) => vm.workflowId));
    runs = progress.vms.map((vm, i) => followWorkspace(vm, startWorkspace(plan, vm, plan.vms[i].index, input, options), current ? children : undefined));
  }
  const committed = current && (await commitWhenSettled(progress.vms, children));
  // Every child has deployed or compensated: none changes a VM any more, so the next operation may
  // start while they close (a child's `closed` signal that finds this lock ended is dropped; one that
  // reaches the next operation's lock names a child that lock never waits for).
  if (committed && lock && patched(RELEASE_AT_COMMIT)) void lock.release();
  await Promise.allSettled(runs);

  const summary: DeploySummary = { workflowId, service: plan.service, tag: plan.tag, outcome: outcomeOf(progress.vms), ...built, vms: progress.vms };
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

interface Built {
  images: BuiltImage[];
  pushed: PushedImage[];
  seed?: WorkspaceSeed;
}

function describeSeed(seed: WorkspaceSeed): string {
  return `${seed.digest.slice(0, 19)}, ${seed.files} file(s)${seed.pushed ? '' : ', already in the registry'}`;
}

/** A reused image is said so: nothing it is made of changed, so no build ran (src/images/build-key.ts). */
function describeBuilt(images: BuiltImage[]): string {
  return images.map((x) => `${x.image}${x.reused ? ' (unchanged, reused)' : ''}`).join(', ');
}
