// Names shared by workflow and client code; no imports, so the client can use them without loading workflow code.

/** One per project identity: whoever holds it is the only operation running against that project's VMs. */
export const LOCK_WORKFLOW_PREFIX = 'kamal-dev-lock/';
/** The failure type of an operation refused because another one holds the lock. */
export const LOCKED_FAILURE_TYPE = 'KamalDevError.busy';
/** The failure type of a deploy with no VM deployed; its details are the DeploySummary. */
export const DEPLOY_FAILED_TYPE = 'KamalDevError.deployFailed';

export function lockWorkflowId(identity: string): string {
  return `${LOCK_WORKFLOW_PREFIX}${identity}`;
}
