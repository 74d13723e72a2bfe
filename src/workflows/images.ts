import { ApplicationFailure, condition, defineSignal, setHandler } from '@temporalio/workflow';
import type { DeployPlan, WorkspaceSeed } from '../spec/plan';

/**
 * From this patch on, DeployWorkspaces starts every DeployWorkspace child right after the plan, with
 * `awaitImages`: the VM is provisioned, bootstrapped, given its stack and the images that are not
 * built while the source machine builds and pushes. The parent signals the outcome of build and
 * push (imagesSignal); only composeUp waits for it. A signal, not a child started later with the
 * push result, so that each child alone owns (and compensates) the VM it made from its first moment:
 * a failed build is a failure the child is told about, a cancel reaches it as before.
 * Histories from before replay the build-then-children order.
 */
export const OVERLAP_PATCH = 'kamal-dev-vms-during-build';

/**
 * From this patch on, the workspace copy and the stack's files travel as an image in the registry
 * (pushWorkspaceSeed, on the source queue beside build and push); its reference comes in the seed
 * signal as soon as it is pushed (and again with the images signal), and seedWorkspace unpacks it on
 * the VM while the images build, so no VM step reads the source machine's files. A --skip-push deploy, which has no registry, runs its VM steps on the source queue instead
 * (they tar the workspace and `docker save` the images from there). Histories from before replay
 * the tar over SSH from whichever worker ran uploadStack.
 */
export const SEED_PATCH = 'kamal-dev-workspace-seed';

/** Whether the stack has anything the seed carries: the workspace copy or files beside compose.yaml. */
export function carriesSeed(plan: DeployPlan): boolean {
  return !!plan.stack.workspace || plan.stack.files.length > 0;
}

export type ImagesOutcome = { ready: true; seed?: WorkspaceSeed } | { ready: false; error: string };

export const imagesSignal = defineSignal<[ImagesOutcome]>('images');

/** The workspace seed, sent as soon as it is pushed (with SEED_PATCH): the VM unpacks it while the images build. */
export const seedSignal = defineSignal<[WorkspaceSeed]>('seed');

/** Why a child gave up when the build or push failed: the deploy's own failure says what went wrong. */
export const IMAGES_FAILED_TYPE = 'KamalDevError.imagesFailed';

/**
 * Child side: listens from the start (the signal may come before the child gets there) and returns
 * what waits for the images; it throws when the parent's build or push failed.
 */
export function listenForImages(): { images: () => Promise<void>; seed: () => Promise<WorkspaceSeed> } {
  let outcome: ImagesOutcome | undefined;
  let seed: WorkspaceSeed | undefined;
  setHandler(imagesSignal, (received) => void (outcome = received));
  setHandler(seedSignal, (received) => void (seed = received));
  const failed = () => {
    if (outcome && !outcome.ready) throw ApplicationFailure.nonRetryable(`no images to start: ${outcome.error}`, IMAGES_FAILED_TYPE);
  };
  return {
    images: async () => {
      await condition(() => outcome !== undefined);
      failed();
    },
    // The seed comes before the images' outcome (it is part of it); a failed build or push ends the wait too.
    seed: async () => {
      await condition(() => seed !== undefined || outcome !== undefined);
      failed();
      const received = seed ?? (outcome?.ready ? outcome.seed : undefined);
      if (!received) throw ApplicationFailure.nonRetryable('the deploy sent no workspace seed', IMAGES_FAILED_TYPE);
      return received;
    },
  };
}

/** The stack's services whose images are pulled, not built: they can come down before the push. */
export function unbuiltServices(plan: DeployPlan): string[] {
  const built = new Set(plan.builds.map((b) => b.service));
  return Object.keys((plan.stack.compose.services ?? {}) as object).filter((s) => !built.has(s));
}
