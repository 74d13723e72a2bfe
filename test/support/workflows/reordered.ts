// A determinism-breaking edit of DeployWorkspaces (push scheduled before plan): replaying the recorded
// histories against it must fail, which proves the replay test catches such changes.
import { proxyActivities } from '@temporalio/workflow';
import type { DeployActivities } from '../../../src/activities/types';
import type { DeployWorkspacesInput } from '../../../src/workflows/types';

export { DeployWorkspace } from '../../../src/workflows/workspace';
export { RemoveWorkspaces, StartWorkspaces, StopWorkspaces } from '../../../src/workflows/lifecycle';
export { OperationLock } from '../../../src/workflows/lock';

export async function DeployWorkspaces(input: DeployWorkspacesInput): Promise<void> {
  const act = proxyActivities<DeployActivities>({ startToCloseTimeout: '1m', taskQueue: input.sourceTaskQueue });
  await act.removeBuildImages({ buildId: 'x' });
  await act.planDeploy(input);
}
