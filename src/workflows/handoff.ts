import { CancellationScope, condition, defineSignal, getExternalWorkflowHandle, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { WorkspaceProgress } from './types';

/**
 * A DeployWorkspace child started with `holdForCommit` reports to its parent when it is deployed
 * (or has failed and compensated) and, once deployed, waits for the parent's commit before it
 * returns. Until then a cancel of the deploy still reaches it, and its own compensation, which
 * knows whether this run created the VM, decides what is removed: a cancel takes back every VM this
 * run created, finished or not.
 */
export const workspaceReportSignal = defineSignal<[WorkspaceProgress]>('workspaceReport');
export const workspaceCommitSignal = defineSignal('workspaceCommit');

/** Child side: waits for the commit; a cancel meanwhile throws out of it into the child's compensation. */
export async function awaitCommit(progress: WorkspaceProgress): Promise<void> {
  let committed = false;
  setHandler(workspaceCommitSignal, () => void (committed = true));
  await report(progress);
  await condition(() => committed);
}

/** Child side, after its compensation: what it removed or kept, for the parent's summary and the CLI. */
export async function reportSettled(progress: WorkspaceProgress): Promise<void> {
  if (progress.cleanup) upsertMemo({ cleanup: progress.cleanup });
  // The parent may be gone (terminated): the memo above is then what the CLI reads.
  await CancellationScope.nonCancellable(() => report(progress)).catch(() => undefined);
}

async function report(progress: WorkspaceProgress): Promise<void> {
  const parent = workflowInfo().parent;
  if (parent) await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(workspaceReportSignal, progress);
}
