import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { KamalDevError } from '../errors';
import { LOCKED_FAILURE_TYPE, lockWorkflowId } from '../workflows/names';

export interface RunningOperation {
  workflowId: string;
  type: string;
  startedAt: Date;
  /**
   * How the operation ended (terminated, timed_out) when it has, while its lock is still held:
   * its VMs' workflows are still cleaning up what it created (src/workflows/lock.ts).
   */
  endedAs?: string;
}

/**
 * The operation that holds the project's lock, if one runs. A lock whose holder has just closed is
 * being released by the server (parent-close policy): waited for a moment, then reported as held
 * for the cleanup of that operation's VMs.
 */
export async function lockHolder(client: Client, identity: string): Promise<RunningOperation | undefined> {
  let ended: RunningOperation | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    const lock = await describeOrNothing(client, lockWorkflowId(identity));
    if (lock?.status.name !== 'RUNNING' || !lock.parentExecution?.workflowId) return undefined;
    const holder = await describeOrNothing(client, lock.parentExecution.workflowId);
    if (!holder) return undefined;
    const operation = { workflowId: holder.workflowId, type: holder.type, startedAt: holder.startTime };
    if (holder.status.name === 'RUNNING') return operation;
    ended = { ...operation, endedAs: holder.status.name.toLowerCase() };
    await new Promise((r) => setTimeout(r, 250));
  }
  return ended;
}

/** Refuses before starting anything when another operation runs on the project's VMs. */
export async function refuseWhenLocked(client: Client, identity: string, what: string): Promise<void> {
  const holder = await lockHolder(client, identity);
  if (holder) throw refusal(what, holder, identity);
}

/** A workflow refused by the lock (two commands started at once) as the same error the early check gives. */
export async function refusalOf(client: Client, error: unknown, identity: string, what: string): Promise<KamalDevError | undefined> {
  const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== LOCKED_FAILURE_TYPE) return undefined;
  const holder = await lockHolder(client, identity);
  return holder
    ? refusal(what, holder, identity)
    : new KamalDevError('busy', `${what} refused: another kamal-dev operation was running on this project's VMs; it has ended, run the command again`, { cause: error });
}

function refusal(what: string, holder: RunningOperation, identity: string): KamalDevError {
  const since = holder.startedAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  if (holder.endedAs) {
    return new KamalDevError('busy', `${what} refused: ${holder.workflowId} (${operationOf(holder.type)}, started ${since}) was ${holder.endedAs.replace('_', ' ')}, and its VMs are still being cleaned up`, {
      description: `Run the command again once ${lockWorkflowId(identity)} has ended: it is held until each VM of that run has destroyed what the run created.`,
    });
  }
  const follow = holder.type === 'DeployWorkspaces' ? `follow it: kamal-dev deploy --attach ${holder.workflowId}\n` : '';
  return new KamalDevError('busy', `${what} refused: ${holder.workflowId} (${operationOf(holder.type)}, started ${since}) is running on this project's VMs`, {
    description: `${follow}cancel it: kamal-dev cancel ${holder.workflowId}`,
  });
}

function operationOf(type: string): string {
  return type.replace('Workspaces', '').toLowerCase();
}

async function describeOrNothing(client: Client, workflowId: string) {
  try {
    return await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}
