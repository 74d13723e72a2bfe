import type { Duration, RetryPolicy } from '@temporalio/common';
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import type { ProfileName, ProfileOverride, ProfileOverrides } from './types';

/**
 * Failure types that a retry cannot fix: the worker turns a KamalDevError of these kinds into an
 * ApplicationFailure of type `KamalDevError.<kind>` (see src/activities/failures.ts).
 */
export const NON_RETRYABLE_ERROR_TYPES = [
  'KamalDevError.config',
  'KamalDevError.prerequisite',
  'KamalDevError.build',
  'KamalDevError.state',
];

const retry = (maximumAttempts: number): RetryPolicy => ({
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  maximumAttempts,
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
});

const PROFILES: Record<ProfileName, ActivityOptions> = {
  /** Plan, image checks, uploads, status: seconds of work. */
  quick: { startToCloseTimeout: '2m', retry: retry(5) },
  /**
   * The stack and the workspace copy: as long as the data needs, so its clock is the heartbeat (it
   * beats as bytes go out, each beat carrying how many), not a start-to-close sized for quick steps.
   */
  upload: { startToCloseTimeout: '4h', heartbeatTimeout: '1m', retry: retry(5) },
  /** Build, push, bootstrap, compose up: minutes, so they heartbeat and a dead worker is noticed quickly. */
  long: { startToCloseTimeout: '60m', heartbeatTimeout: '2m', retry: retry(3) },
  /** A half-made VM must finish (or fail) before its compensation destroys it. */
  provision: {
    startToCloseTimeout: '15m',
    retry: retry(5),
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  },
  /** A new VM's sshd takes a while: many short attempts. */
  ssh: { startToCloseTimeout: '1m', retry: { ...retry(20), maximumInterval: '10s' } },
  verify: { startToCloseTimeout: '10m', retry: retry(3) },
  /** Undo steps try hard: a leaked VM costs money. */
  compensation: { startToCloseTimeout: '5m', retry: retry(10) },
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
