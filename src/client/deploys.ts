import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription, type WorkflowExecutionInfo } from '@temporalio/client';
import { KamalDevError } from '../errors';
import { webUiLink } from './deploy';
import { PROJECT_ATTRIBUTE } from './searchAttributes';

/** One deploy of this project as the server knows it, whichever machine started it. */
export interface DeployRecord {
  workflowId: string;
  /** Temporal's execution status, lower case: running, completed, failed, cancelled, terminated, timed_out, .... */
  state: string;
  startedAt: string;
  closedAt: string | null;
  /** VMs whose DeployWorkspace child has completed, of the VMs the deploy asked for (null until known). */
  vms: { deployed: number; total: number | null };
  webUi: string;
}

export const deploysOf = (identity: string) => `WorkflowType = "DeployWorkspaces" AND ${PROJECT_ATTRIBUTE.name} = "${identity}"`;

/** The project's deploys, newest first, found by its identity (set as a search attribute when each started). */
export async function listDeploys(client: Client, identity: string, options: { limit: number; ui?: { namespace: string; uiUrl?: string } }): Promise<DeployRecord[]> {
  const found: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list({ query: deploysOf(identity) })) found.push(execution);
  found.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  return Promise.all(found.slice(0, options.limit).map((execution) => record(client, execution, options.ui)));
}

async function record(client: Client, execution: WorkflowExecutionInfo, ui?: { namespace: string; uiUrl?: string }): Promise<DeployRecord> {
  const deployed = await client.workflow.count(`ParentWorkflowId = "${execution.workflowId}" AND WorkflowType = "DeployWorkspace" AND ExecutionStatus = "Completed"`);
  const total = Number((execution.memo as { count?: unknown } | undefined)?.count);
  return {
    workflowId: execution.workflowId,
    state: execution.status.name.toLowerCase(),
    startedAt: execution.startTime.toISOString(),
    closedAt: execution.closeTime?.toISOString() ?? null,
    vms: { deployed: deployed.count, total: Number.isInteger(total) && total > 0 ? total : null },
    webUi: webUiLink(execution.workflowId, ui?.namespace, ui?.uiUrl),
  };
}

/** `cancel` and `deploy --attach` without an id: the project's newest running deploy. */
export async function latestRunningDeploy(client: Client, identity: string): Promise<string> {
  let latest: WorkflowExecutionInfo | undefined;
  for await (const execution of client.workflow.list({ query: `${deploysOf(identity)} AND ExecutionStatus = "Running"` })) {
    if (!latest || execution.startTime > latest.startTime) latest = execution;
  }
  if (!latest) {
    throw new KamalDevError('config', 'no deploy of this project is running', {
      description: 'Name one (`kamal-dev deploys` lists the recent ones) or start one with `kamal-dev deploy`.',
    });
  }
  return latest.workflowId;
}

/** A workflow named on the command line (`cancel ID`, `deploy --attach ID`): an id the server does not know is bad input. */
export async function describeNamed(client: Client, workflowId: string): Promise<WorkflowExecutionDescription> {
  return client.workflow
    .getHandle(workflowId)
    .describe()
    .catch((error: unknown) => {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      throw new KamalDevError('config', `no workflow ${workflowId}`, { description: LIST_HINT, cause: error });
    });
}

export const LIST_HINT = '`kamal-dev deploys` lists the deploys of this project.';
