import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { childCleanup, describeCleanup } from '../../client/cleanup';
import type { CliDeps } from '../deps';
import { withTemporal } from '../session';

export function register(program: Command, deps: CliDeps): void {
  program
    .command('cancel')
    .argument('<workflowId>', 'the deploy (or remove/stop/start) to cancel')
    .description('cancel a running deploy; it destroys the VMs it created and keeps the ones it found')
    .action(async (workflowId: string, _options: unknown, command: Command) => {
      const { json } = command.optsWithGlobals<{ json?: boolean }>();
      await withTemporal(deps, command, async ({ session, worker, log, out }) => {
        const handle = session.client.workflow.getHandle(workflowId);
        const { type } = await handle.describe();
        await handle.cancel();
        log(`cancel requested for ${workflowId}; waiting for its compensations`);
        // The compensations are activities: run a worker here so they happen even when none runs elsewhere.
        const outcome = await (await worker()).runUntil(
          handle.result().then(
            () => 'completed before the cancel arrived',
            (error: unknown) => (error instanceof WorkflowFailedError && error.cause?.name === 'CancelledFailure' ? 'cancelled' : `ended: ${(error as Error).message}`),
          ),
        );
        const cleanup = type === 'DeployWorkspaces' ? await childCleanup(session.client, workflowId) : undefined;
        if (json) out.write(JSON.stringify({ workflowId, outcome, ...cleanup }, null, 2) + '\n');
        log(`${workflowId} ${outcome}${cleanup && outcome === 'cancelled' ? `: ${describeCleanup(cleanup)}` : ''}`);
      });
    });
}
