import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  condition,
  defineSignal,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { LOCKED_FAILURE_TYPE, lockWorkflowId } from './names';

/** Every workflow that takes the lock is patched with this id; recorded histories from before replay without it. */
export const LOCK_PATCH = 'kamal-dev-operation-lock';

export const releaseSignal = defineSignal('release');

export interface OperationLockInput {
  /** deploy, remove, stop, start */
  operation: string;
}

/**
 * Held by its parent, the operation, until the parent signals release. The parent-close policy
 * TERMINATE releases it too when the parent ends in a way that runs none of its code (terminated,
 * timed out), so a lock never outlives its holder.
 */
export async function OperationLock(input: OperationLockInput): Promise<void> {
  const holder = workflowInfo().parent?.workflowId ?? 'unknown';
  setCurrentDetails(`held by **${holder}** (${input.operation})`);
  let released = false;
  setHandler(releaseSignal, () => void (released = true));
  await condition(() => released);
}

/**
 * Takes the project's lock or fails the workflow with LOCKED_FAILURE_TYPE. Started outside the
 * workflow's cancellation: a cancelled operation keeps the lock until its compensation has run.
 */
async function takeLock(identity: string, operation: string): Promise<{ release(): Promise<void> }> {
  const workflowId = lockWorkflowId(identity);
  const child = await CancellationScope.nonCancellable(() =>
    startChild(OperationLock, { workflowId, args: [{ operation }], parentClosePolicy: ParentClosePolicy.TERMINATE }),
  ).catch((error: unknown) => {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    throw ApplicationFailure.create({
      type: LOCKED_FAILURE_TYPE,
      message: `another kamal-dev operation holds ${workflowId}`,
      nonRetryable: true,
      details: [{ kind: 'busy', lock: workflowId }],
    });
  });
  return {
    release: () =>
      CancellationScope.nonCancellable(async () => {
        await child.signal(releaseSignal);
        await child.result();
      }).catch(() => undefined), // terminated by hand: released already
  };
}

/** Runs `body` holding the lock; releases it however `body` ends. */
export async function withLock<T>(identity: string, operation: string, body: () => Promise<T>): Promise<T> {
  const lock = await takeLock(identity, operation);
  try {
    return await body();
  } finally {
    await lock.release();
  }
}
