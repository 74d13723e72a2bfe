import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  CancellationScope,
  condition,
  defineSignal,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { LOCKED_FAILURE_TYPE, lockWorkflowId } from './names';

/** Every workflow that takes the lock is patched with this id; recorded histories from before replay without it. */
export const LOCK_PATCH = 'kamal-dev-operation-lock';

/** From here on a lock whose holder ends without releasing it waits for the holder's children. */
export const LOCK_WAITS_FOR_CHILDREN = 'kamal-dev-lock-waits-for-children';

export const releaseSignal = defineSignal('release');
/** From the holder, before it starts them: the children (VM workflows) the lock outlives the holder for. */
export const holdingSignal = defineSignal<[string[]]>('holding');
/** From each such child as it closes, its compensation done. */
export const closedSignal = defineSignal<[string]>('closed');

/**
 * How long a lock whose holder was terminated waits for its children: longer than a compensation
 * may take with its retries. A child terminated by hand never says it closed; terminating the lock
 * itself releases it at once.
 */
const CHILDREN_WAIT = '1 hour';

export interface OperationLockInput {
  /** deploy, remove, stop, start */
  operation: string;
}

/**
 * Held by its parent, the operation, until the parent signals release. When the parent ends in a
 * way that runs none of its code (terminated, timed out), its parent-close policy REQUEST_CANCEL
 * cancels the lock, and the lock stays held until every child the holder named has closed: those
 * children are cancelled by their own policy and are still destroying what the run created, so no
 * next operation may start on the same VMs meanwhile. (Locks from before that policy are terminated
 * with their holder.)
 */
export async function OperationLock(input: OperationLockInput): Promise<void> {
  const holder = workflowInfo().parent?.workflowId ?? 'unknown';
  setCurrentDetails(`held by **${holder}** (${input.operation})`);
  let released = false;
  const [named, closed] = [new Set<string>(), new Set<string>()];
  const open = () => [...named].filter((id) => !closed.has(id));
  setHandler(releaseSignal, () => void (released = true));
  setHandler(holdingSignal, (children) => children.forEach((id) => named.add(id)));
  setHandler(closedSignal, (child) => void closed.add(child));
  try {
    await condition(() => released);
  } catch (error) {
    if (!isCancellation(error)) throw error;
    if (open().length === 0) return;
    await CancellationScope.nonCancellable(async () => {
      setCurrentDetails(`**${holder}** ended without releasing; held until its VMs are cleaned up: ${open().join(', ')}`);
      await condition(() => open().length === 0, CHILDREN_WAIT);
    });
  }
}

/** From here on a deploy releases its lock as soon as its children are committed, while they close. */
export const RELEASE_AT_COMMIT = 'kamal-dev-lock-released-at-commit';

export interface HeldLock {
  /** The lock's workflow id, for children that say when they close; absent for locks from before. */
  workflowId?: string;
  /** Names the children the lock waits for if the holder ends without releasing it. Call it in the same workflow task that starts them. */
  holding(children: string[]): void;
  /** Lets the next operation in before the holder ends; once released, ending releases nothing more. */
  release(): Promise<void>;
}

/**
 * Takes the project's lock or fails the workflow with LOCKED_FAILURE_TYPE. Started outside the
 * workflow's cancellation: a cancelled operation keeps the lock until its compensation has run.
 */
async function takeLock(identity: string, operation: string): Promise<HeldLock> {
  const workflowId = lockWorkflowId(identity);
  const waits = patched(LOCK_WAITS_FOR_CHILDREN);
  const parentClosePolicy = waits ? ParentClosePolicy.REQUEST_CANCEL : ParentClosePolicy.TERMINATE;
  const child = await CancellationScope.nonCancellable(() => startChild(OperationLock, { workflowId, args: [{ operation }], parentClosePolicy })).catch((error: unknown) => {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    throw ApplicationFailure.create({
      type: LOCKED_FAILURE_TYPE,
      message: `another kamal-dev operation holds ${workflowId}`,
      nonRetryable: true,
      details: [{ kind: 'busy', lock: workflowId }],
    });
  });
  let released: Promise<void> | undefined;
  return {
    ...(waits ? { workflowId } : {}),
    holding: (children) => {
      // Not awaited here: the signal and the children's starts leave in one workflow task, so a
      // terminate can never fall between them. A lock terminated by hand takes no signal: ignored.
      if (waits) void CancellationScope.nonCancellable(() => child.signal(holdingSignal, children)).catch(() => undefined);
    },
    release: () =>
      (released ??= CancellationScope.nonCancellable(async () => {
        await child.signal(releaseSignal);
        await child.result();
      }).catch(() => undefined)), // terminated by hand: released already
  };
}

/** Runs `body` holding the lock; releases it however `body` ends. */
export async function withLock<T>(identity: string, operation: string, body: (lock: HeldLock) => Promise<T>): Promise<T> {
  const lock = await takeLock(identity, operation);
  try {
    return await body(lock);
  } finally {
    await lock.release();
  }
}

/**
 * A child's last word to its deploy's lock: it has closed, its compensation done. A lock that is
 * gone (released, terminated by hand) needs no word; a newer lock of that id ignores it.
 */
export async function sayClosed(lock: string): Promise<void> {
  const child = workflowInfo().workflowId;
  await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(lock).signal(closedSignal, child)).catch(() => undefined);
}
