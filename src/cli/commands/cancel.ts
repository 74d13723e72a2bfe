import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { childCleanup, describeCleanup } from '../../client/cleanup';
import { describeNamed, latestRunningDeploy, LIST_HINT } from '../../client/deploys';
import { configError } from '../../errors';
import { contextOf } from '../context';
import { planOf, type CliDeps } from '../deps';
import { withTemporal } from '../session';

export async function action(deps: CliDeps, named: string | undefined, _options: unknown, command: Command): Promise<void> {
  const identity = named ? undefined : (await planOf(deps)({ projectDir: contextOf(command).projectDir })).identity;
  await withTemporal(deps, command, async ({ session, worker, log, print }) => {
    const workflowId = named ?? (await latestRunningDeploy(session.client, identity as string));
    const handle = session.client.workflow.getHandle(workflowId);
    const { status, type } = await describeNamed(session.client, workflowId);
    if (status.name !== 'RUNNING') throw configError(`${workflowId} is not running (${status.name.toLowerCase()})`, { description: LIST_HINT });
    await handle.cancel();
    log(`cancel requested for ${workflowId}; waiting for its compensations`);
    // The compensations are activities: run a worker here so they happen even when none runs elsewhere.
    const outcome = await (await worker()).runUntil(
      handle.result().then(
        () => ({ outcome: 'completed', message: 'completed before the cancel arrived' }),
        (error: unknown) =>
          error instanceof WorkflowFailedError && error.cause?.name === 'CancelledFailure' ? { outcome: 'cancelled', message: 'cancelled' } : { outcome: 'ended', message: `ended: ${(error as Error).message}` },
      ),
    );
    const cleanup = type === 'DeployWorkspaces' ? await childCleanup(session.client, workflowId) : undefined;
    const message = `${outcome.message}${cleanup && outcome.outcome === 'cancelled' ? `: ${describeCleanup(cleanup)}` : ''}`;
    print.result({ outcome: outcome.outcome, workflowId, message, ...cleanup }, () => '');
    log(`${workflowId} ${message}`);
  });
}
