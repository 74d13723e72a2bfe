import type { Duration, RetryPolicy } from '@temporalio/common';
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import type { ProfileName, ProfileOverride, ProfileOverrides } from './types';

/** What is retried is the error's own decision (src/errors.ts, mapped in src/activities/failures.ts): no type list here. */
const retry = (maximumAttempts: number): RetryPolicy => ({
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts,
});

/**
 * Every step that can outlast a minute heartbeats (src/activities/activityContext.ts beats every
 * 5 s while it waits), so a killed worker's step is given to another worker within this.
 */
const DEAD_WORKER_NOTICED = '30s';

const PROFILES: Record<ProfileName, ActivityOptions> = {
  /** Plan, image checks, uploads, status: seconds of work. */
  quick: { startToCloseTimeout: '2m', retry: retry(5) },
  /**
   * The stack and the workspace copy: as long as the data needs, so its clock is the heartbeat (it
   * beats as bytes go out, each beat carrying how many), not a start-to-close sized for quick steps.
   */
  upload: { startToCloseTimeout: '4h', heartbeatTimeout: '1m', retry: retry(5) },
  /** Build, push, bootstrap, compose up: minutes, so they heartbeat and a dead worker is noticed quickly. */
  long: { startToCloseTimeout: '60m', heartbeatTimeout: DEAD_WORKER_NOTICED, retry: retry(3) },
  /**
   * Provider calls that wait for a machine: create, start and stop (a cloud server's stop alone may
   * take 5 minutes). A half-made VM must finish (or fail) before its compensation destroys it.
   */
  provision: {
    startToCloseTimeout: '15m',
    heartbeatTimeout: DEAD_WORKER_NOTICED,
    retry: retry(5),
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  },
  /** A new VM's sshd takes a while: many short attempts. */
  ssh: { startToCloseTimeout: '1m', retry: { ...retry(20), maximumInterval: '10s' } },
  verify: { startToCloseTimeout: '10m', heartbeatTimeout: DEAD_WORKER_NOTICED, retry: retry(3) },
  /** Undo steps try hard: a leaked VM costs money (10 attempts with backoff ride out a provider outage of minutes). */
  compensation: { startToCloseTimeout: '5m', heartbeatTimeout: DEAD_WORKER_NOTICED, retry: retry(10) },
};

/** A named profile with the deploy's overrides applied. */
export function profile(name: ProfileName, overrides: ProfileOverrides = {}, taskQueue?: string): ActivityOptions {
  const base = PROFILES[name];
  const o: ProfileOverride = overrides[name] ?? {};
  return {
    ...base,
    ...(taskQueue ? { taskQueue } : {}),
    ...(o.startToCloseTimeout ? { startToCloseTimeout: o.startToCloseTimeout as Duration } : {}),
    ...(o.heartbeatTimeout ? { heartbeatTimeout: o.heartbeatTimeout as Duration } : {}),
    retry: {
      ...base.retry,
      ...(o.maximumAttempts !== undefined ? { maximumAttempts: o.maximumAttempts } : {}),
      ...(o.initialInterval ? { initialInterval: o.initialInterval as Duration } : {}),
    },
  };
}
