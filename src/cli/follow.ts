import type { Client } from '@temporalio/client';
import { describeStatus, fetchProgress } from '../client/deploy';
import type { DeploySummary } from '../workflows/types';
import { ProgressPrinter, renderProgress } from './progress';

export type FollowResult = { summary: DeploySummary } | { error: unknown } | { detached: true };

/**
 * Renders the deploy's progress until it closes or `detach` aborts. Falls back to what describe()
 * knows while no worker answers the query (e.g. right after a crash, before a worker polls again).
 */
export async function followDeploy(
  client: Client,
  workflowId: string,
  printer: ProgressPrinter,
  options: { intervalMs: number; detach: AbortSignal },
): Promise<FollowResult> {
  let finished = false;
  const result: Promise<FollowResult> = client.workflow
    .getHandle(workflowId)
    .result()
    .then(
      (summary: DeploySummary) => ({ summary }),
      (error: unknown) => ({ error }),
    )
    .finally(() => (finished = true));
  const detached = new Promise<FollowResult>((resolve) => {
    if (options.detach.aborted) resolve({ detached: true });
    options.detach.addEventListener('abort', () => resolve({ detached: true }), { once: true });
  });
  while (!finished && !options.detach.aborted) {
    printer.update(await snapshot(client, workflowId));
    let refresh: NodeJS.Timeout | undefined;
    await Promise.race([result, detached, new Promise((r) => (refresh = setTimeout(r, options.intervalMs)))]);
    // A pending refresh would hold the process up to intervalMs after the deploy is done.
    clearTimeout(refresh);
  }
  if (finished) printer.update(await snapshot(client, workflowId));
  return Promise.race([result, detached]);
}

async function snapshot(client: Client, workflowId: string): Promise<string[]> {
  try {
    // A query waits for a worker; without one, answer from describe() within the refresh interval.
    return renderProgress(await client.withDeadline(Date.now() + 3000, () => fetchProgress(client, workflowId)));
  } catch {
    const status = await describeStatus(client, workflowId).catch(() => ({ status: 'UNKNOWN', pending: [] as string[] }));
    return [`${workflowId}  ${status.status} (waiting for a worker)`, ...status.pending.map((p) => `  … ${p}`)];
  }
}
