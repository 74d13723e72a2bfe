import { buildImages, removeBuildImages } from '../images/build';
import type { ResolveSecret } from '../images/credentials';
import { ImageProgress, ImageProgressTracker } from '../images/progress';
import { pushImages } from '../images/push';
import { recordedImages } from '../images/recorded';
import { pushWorkspaceSeed } from '../images/seed';
import type { DeployPlan } from '../spec/plan';
import { currentActivity, heartbeating } from './activityContext';
import { toActivityFailure } from './failures';
import type { DeployActivities } from './types';

export interface BuildActivityDeps {
  /** The secrets of the plan's project (.kamal/secrets, then the environment), resolved on the worker. */
  secretsFor: (plan: DeployPlan) => ResolveSecret;
  /** Every progress event as it happens (tests); inside an activity they also become heartbeats and log lines. */
  onProgress?: (progress: ImageProgress) => void;
  localRegistryImage?: string;
}

type BuildActivities = Pick<DeployActivities, 'buildImages' | 'pushImages' | 'pushWorkspaceSeed' | 'removeBuildImages' | 'checkImages'>;

export function createBuildActivities(deps: BuildActivityDeps): BuildActivities {
  return {
    buildImages: ({ plan, buildId, noCache }) =>
      asActivity(deps, (signal, report) =>
        buildImages(plan, {
          buildId,
          noCache,
          resolveSecret: deps.secretsFor(plan),
          signal,
          onEvent: (service, event) => report({ phase: 'build', service, event }),
        }),
      ),
    pushImages: ({ plan, images }) =>
      asActivity(deps, (signal, report) =>
        pushImages(plan, images, {
          resolveSecret: deps.secretsFor(plan),
          localRegistryImage: deps.localRegistryImage,
          signal,
          onEvent: (image, event) => report({ phase: 'push', image, event }),
        }),
      ),
    pushWorkspaceSeed: ({ plan }) =>
      asActivity(deps, (signal) => pushWorkspaceSeed(plan, { resolveSecret: deps.secretsFor(plan), localRegistryImage: deps.localRegistryImage, signal })),
    checkImages: ({ plan }) => asActivity(deps, () => recordedImages(plan)),
    removeBuildImages: ({ buildId }) => asActivity(deps, async (signal) => void (await removeBuildImages(buildId, signal))),
  };
}

/**
 * Heartbeats carry the tracker's details (the CLI reads them from describe(), on any machine); the
 * worker's log gets the same lines the CLI shows.
 */
async function asActivity<T>(deps: BuildActivityDeps, work: (signal: AbortSignal | undefined, report: (p: ImageProgress) => void) => Promise<T>): Promise<T> {
  const context = currentActivity();
  const tracker = new ImageProgressTracker();
  try {
    return await heartbeating(
      () => tracker.details(),
      (beat) =>
        work(context?.cancellationSignal, (progress) => {
          deps.onProgress?.(progress);
          const line = tracker.apply(progress);
          if (line) context?.log.info(line);
          beat();
        }),
    );
  } catch (error) {
    if (context?.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    throw toActivityFailure(error);
  }
}
