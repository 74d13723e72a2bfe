import { ApplicationFailure } from '@temporalio/common';
import { failureMessage } from './progress';

/** Workflows recorded before the stack rollback existed replay without it. */
export const ROLLBACK_PATCH = 'rollback-stack';

/** What a failed redeploy says when its VM runs the stack it had before. */
export const ROLLED_BACK = 'rolled back to the previous stack';

/**
 * The failure, its message ending in `note`: the parent's summary and the CLI show the innermost
 * ApplicationFailure's message, so the note goes on a copy of that one (same type, details and
 * retryability), with the original as its cause.
 */
export function withNote(error: unknown, note: string): ApplicationFailure {
  let inner: unknown = error;
  while (inner instanceof Error && !(inner instanceof ApplicationFailure) && inner.cause) inner = inner.cause;
  const app = inner instanceof ApplicationFailure ? inner : undefined;
  return ApplicationFailure.create({
    message: `${failureMessage(error)}; ${note}`,
    type: app?.type ?? 'DeployFailed',
    nonRetryable: true,
    details: app?.details ?? [],
    cause: error instanceof Error ? error : undefined,
  });
}
