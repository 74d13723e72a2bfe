import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { KamalDevError } from '../errors';
import { LOCKED_FAILURE_TYPE, lockWorkflowId } from '../workflows/names';

export interface RunningOperation {
  workflowId: string;
  type: string;
  startedAt: Date;
}

/**
 * The operation that holds the project's lock, if one runs. A lock whose holder has just closed is
 * being released by the server (parent-close policy): waited for, not reported.
 */
export async function lockHolder(client: Client, identity: string): Promise<RunningOperation | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const lock = await describeOrNothing(client, lockWorkflowId(identity));
    if (lock?.status.name !== 'RUNNING' || !lock.parentExecution?.workflowId) return undefined;
    const holder = await describeOrNothing(client, lock.parentExecution.workflowId);
    if (holder?.status.name === 'RUNNING') return { workflowId: holder.workflowId, type: holder.type, startedAt: holder.startTime };
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

/** Refuses before starting anything when another operation runs on the project's VMs. */
export async function refuseWhenLocked(client: Client, identity: string, what: string): Promise<void> {
  const holder = await lockHolder(client, identity);
  if (holder) throw refusal(what, holder);
}

/** A workflow refused by the lock (two commands started at once) as the same error the early check gives. */
export async function refusalOf(client: Client, error: unknown, identity: string, what: string): Promise<KamalDevError | undefined> {
  const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== LOCKED_FAILURE_TYPE) return undefined;
  const holder = await lockHolder(client, identity);
  return holder
    ? refusal(what, holder)
    : new KamalDevError('busy', `${what} refused: another kamal-dev operation was running on this project's VMs; it has ended, run the command again`, { cause: error });
}

function refusal(what: string, holder: RunningOperation): KamalDevError {
  const since = holder.startedAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
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
