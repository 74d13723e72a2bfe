import type { Client } from '@temporalio/client';
import { describeProgress, fetchProgress } from '../client/deploy';
import type { DeployProgress, DeploySummary } from '../workflows/types';

export type FollowResult = { summary: DeploySummary } | { error: unknown } | { detached: true };

/**
 * Hands the deploy's progress to `show` on every refresh until it closes or `detach` aborts. Falls
 * back to what describe() knows while no worker answers the query (e.g. right after a crash, before
 * a worker polls again). Without `show` it only waits: each refresh makes a worker replay the
 * deploy, and the last one comes after it closed.
 */
export async function followDeploy(
  client: Client,
  workflowId: string,
  show: ((progress: DeployProgress) => void) | undefined,
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
  if (!show) return Promise.race([result, detached]);
  while (!finished && !options.detach.aborted) {
    show(await snapshot(client, workflowId));
    let refresh: NodeJS.Timeout | undefined;
    await Promise.race([result, detached, new Promise((r) => (refresh = setTimeout(r, options.intervalMs)))]);
    // A pending refresh would hold the process up to intervalMs after the deploy is done.
    clearTimeout(refresh);
  }
  if (finished) show(await snapshot(client, workflowId));
  return Promise.race([result, detached]);
}

async function snapshot(client: Client, workflowId: string): Promise<DeployProgress> {
  try {
    // A query waits for a worker; without one, answer from describe() within the refresh interval.
    return await client.withDeadline(Date.now() + 3000, () => fetchProgress(client, workflowId));
  } catch {
    return describeProgress(client, workflowId).catch(() => ({ workflowId, phase: 'plan' as const, steps: [], vms: [], waitingForWorker: true }));
  }
}
