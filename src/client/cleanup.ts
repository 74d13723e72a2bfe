import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** What a deploy that was cancelled or terminated left of each VM. */
export interface CleanupReport {
  /** Created by this run and destroyed by its compensation. */
  removed: string[];
  /** Found by this run (or on_failure: keep): left as they were. */
  kept: string[];
  /** Deployed and committed before the cancel arrived. */
  deployed: string[];
}

/**
 * Waits until every DeployWorkspace child of the deploy has closed, so its compensation has run
 * (after a terminate of the parent they are cancelled by their parent-close policy, and a worker must
 * still run them), then reads what each one says it removed or kept.
 */
export async function childCleanup(client: Client, deployId: string): Promise<CleanupReport> {
  const memo = (await client.workflow.getHandle(deployId).describe()).memo as { vms?: string[] } | undefined;
  const report: CleanupReport = { removed: [], kept: [], deployed: [] };
  for (const name of memo?.vms ?? []) {
    const child = client.workflow.getHandle(`${deployId}/vm/${name}`);
    try {
      await child.result().catch((error: unknown) => {
        if (error instanceof WorkflowNotFoundError) throw error;
      });
      const description = await child.describe();
      const cleanup = (description.memo as { cleanup?: 'removed' | 'kept' } | undefined)?.cleanup;
      if (description.status.name === 'COMPLETED') report.deployed.push(name);
      else if (cleanup) report[cleanup].push(name);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error; // never started: it made nothing
    }
  }
  return report;
}

/** `removed wftest-1, wftest-2 (created by this run); kept wftest-3` */
export function describeCleanup(report: CleanupReport): string {
  const list = (names: string[]) => (names.length ? names.join(', ') : 'no VM');
  const parts = [report.removed.length ? `removed ${list(report.removed)} (created by this run)` : 'removed no VM', `kept ${list(report.kept)}`];
  if (report.deployed.length) parts.push(`${list(report.deployed)} deployed before the cancel arrived`);
  return parts.join('; ');
}
