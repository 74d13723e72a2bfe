import { Context } from '@temporalio/activity';
import { BuildEvent, describeStep } from '../docker/build-progress';
import type { PushEvent } from '../docker/push-progress';
import { buildImages, removeBuildImages } from '../images/build';
import type { ResolveSecret } from '../images/credentials';
import { pushImages } from '../images/push';
import { recordedImages } from '../images/recorded';
import type { DeployPlan } from '../spec/plan';
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

/** A long RUN step prints nothing for minutes; the heartbeat must not stop with it. */
const QUIET_HEARTBEAT_MS = 5_000;

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
  const context = activityContext();
  let last: Record<string, unknown> | undefined;
  const timer = context ? setInterval(() => context.heartbeat(last), QUIET_HEARTBEAT_MS) : undefined;
  const report = (progress: ImageProgress) => {
    deps.onProgress?.(progress);
    if (!context) return;
    last = heartbeatDetails(progress);
    context.heartbeat(last);
  };
  try {
    return await work(context?.cancellationSignal, report);
  } catch (error) {
    if (context?.cancellationSignal.aborted) throw context.cancellationSignal.reason;
    throw toActivityFailure(error);
  } finally {
    if (timer) clearInterval(timer);
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

/** User errors fail the activity for good with a stable type; everything else is retried. */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined; // called as a plain function (the CLI, tests)
  }
}
