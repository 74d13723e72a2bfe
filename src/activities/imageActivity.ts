import type { ResolveSecret } from '../images/credentials';
import { ImageProgress, ImageProgressTracker } from '../images/progress';
import type { DeployPlan } from '../spec/plan';
import { currentActivity, heartbeating } from './activityContext';
import { toActivityFailure } from './failures';

export interface BuildActivityDeps {
  /** The secrets of the plan's project (.kamal/secrets, then the environment), resolved on the worker. */
  secretsFor: (plan: DeployPlan) => ResolveSecret;
  /** Every progress event as it happens (tests); inside an activity they also become heartbeats and log lines. */
  onProgress?: (progress: ImageProgress) => void;
  localRegistryImage?: string;
}

/**
 * The source machine's image steps (build, push, the workspace seed) as activities. Heartbeats
 * carry the tracker's details (the CLI reads them from describe(), on any machine); the worker's log
 * gets the same lines the CLI shows.
 */
export async function asImageActivity<T>(deps: BuildActivityDeps, work: (signal: AbortSignal | undefined, report: (p: ImageProgress) => void) => Promise<T>): Promise<T> {
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
