import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { setCurrentDetails, upsertMemo } from '@temporalio/workflow';
import { DEPLOY_FAILED_TYPE } from './names';
import { setPhase } from './progress';
import type { DeployOutcome, DeployPhase, DeployProgress, DeploySummary, WorkspaceProgress } from './types';


export function countDeployed(vms: WorkspaceProgress[]): number {
  return vms.filter((v) => v.state === 'deployed').length;
}

export function outcomeOf(vms: WorkspaceProgress[]): DeployOutcome {
  const deployed = countDeployed(vms);
  if (deployed === vms.length) return 'deployed';
  return deployed === 0 ? 'failed' : 'partial';
}

/** Phase search attribute, memo summary and the Web UI's current details, all saying the same. */
export function finish(progress: DeployProgress, phase: DeployPhase, summary: string, memo: Record<string, unknown> = {}): void {
  progress.phase = phase;
  setPhase(phase);
  upsertMemo({ summary, ...memo });
  setCurrentDetails(`**${progress.service ?? progress.workflowId}** ${phase}: ${summary}`);
}

/** `wftest-2: port in use; wftest-3: unhealthy` */
export function failuresOf(vms: WorkspaceProgress[]): string {
  return vms
    .filter((v) => v.state === 'failed')
    .map((v) => `${v.name}: ${v.error ?? 'failed'}`)
    .join('; ');
}

/**
 * Ends the deploy truthfully: all deployed completes `done`; some completes `partial` and names the
 * failed VMs; none fails the workflow (shown Failed in the Web UI) with the summary as its details.
 */
export function conclude(progress: DeployProgress, summary: DeploySummary): DeploySummary {
  const counted = `${countDeployed(progress.vms)}/${progress.vms.length} VM(s) deployed`;
  if (summary.outcome === 'deployed') finish(progress, 'done', counted);
  else if (summary.outcome === 'partial') finish(progress, 'partial', `${counted}; failed: ${failuresOf(progress.vms)}`);
  else {
    finish(progress, 'failed', `no VM deployed: ${failuresOf(progress.vms)}`);
    throw ApplicationFailure.create({ type: DEPLOY_FAILED_TYPE, message: `no VM deployed: ${failuresOf(progress.vms)}`, nonRetryable: true, details: [summary] });
  }
  return summary;
}

/** A cancelled deploy says which VMs its compensation removed and which it kept, in memo and details. */
export function concludeCancelled(progress: DeployProgress): never {
  const names = (cleanup: 'removed' | 'kept') => progress.vms.filter((v) => v.cleanup === cleanup).map((v) => v.name);
  const [removed, kept] = [names('removed'), names('kept')];
  const said = `removed ${removed.length ? removed.join(', ') : 'no VM'}; kept ${kept.length ? kept.join(', ') : 'no VM'}`;
  finish(progress, 'cancelled', `cancelled: ${said}`, { removed, kept });
  throw new CancelledFailure(`deploy cancelled: ${said}`);
}
