import { BuildEvent, describeStep } from '../docker/build-progress';
import type { PushEvent } from '../docker/push-progress';
import { buildImages, removeBuildImages } from '../images/build';
import type { ResolveSecret } from '../images/credentials';
import { pushImages } from '../images/push';
import { recordedImages } from '../images/recorded';
import type { DeployPlan } from '../spec/plan';
import { currentActivity, heartbeating } from './activityContext';
import { toActivityFailure } from './failures';
import type { DeployActivities } from './types';

export type ImageProgress = { phase: 'build'; service: string; event: BuildEvent } | { phase: 'push'; image: string; event: PushEvent };

export interface BuildActivityDeps {
  /** The secrets of the plan's project (.kamal/secrets, then the environment), resolved on the worker. */
  secretsFor: (plan: DeployPlan) => ResolveSecret;
  /** Every progress event, for a terminal renderer; inside an activity they also become heartbeats. */
  onProgress?: (progress: ImageProgress) => void;
  localRegistryImage?: string;
}

type BuildActivities = Pick<DeployActivities, 'buildImages' | 'pushImages' | 'removeBuildImages' | 'checkImages'>;

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
    checkImages: ({ plan }) => asActivity(deps, () => recordedImages(plan)),
    removeBuildImages: ({ buildId }) => asActivity(deps, async (signal) => void (await removeBuildImages(buildId, signal))),
  };
}

async function asActivity<T>(deps: BuildActivityDeps, work: (signal: AbortSignal | undefined, report: (p: ImageProgress) => void) => Promise<T>): Promise<T> {
  const context = currentActivity();
  let last: Record<string, unknown> | undefined;
  try {
    return await heartbeating(
      () => last,
      (beat) =>
        work(context?.cancellationSignal, (progress) => {
          deps.onProgress?.(progress);
          last = heartbeatDetails(progress);
          beat();
        }),
    );
  } catch (error) {
    if (context?.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    throw toActivityFailure(error);
  }
}

/** Temporal stores heartbeat details: names and step positions only, never output lines. */
export function heartbeatDetails(progress: ImageProgress): Record<string, unknown> {
  if (progress.phase === 'push') {
    const { event } = progress;
    return event.type === 'layer'
      ? { phase: 'push', image: progress.image, layer: event.layer, status: event.status }
      : { phase: 'push', image: progress.image, digest: event.digest };
  }
  const { event } = progress;
  return {
    phase: 'build',
    service: progress.service,
    step: describeStep(event.step),
    ...(event.step.index !== undefined ? { index: event.step.index, total: event.step.total } : {}),
    state: event.type,
    ...(event.type === 'done' ? { elapsedSeconds: event.elapsedSeconds } : {}),
  };
}
