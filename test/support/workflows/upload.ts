import { proxyActivities } from '@temporalio/workflow';
import type { DeployActivities } from '../../../src/activities/types';
import { profile } from '../../../src/workflows/policies';
import type { ProfileOverrides } from '../../../src/workflows/types';

type UploadActivities = Pick<DeployActivities, 'uploadStack'>;

/** DeployWorkspace's uploadStack step on its own, in the same profile (upload-kill.test.ts). */
export async function uploadWorkflow(input: Parameters<UploadActivities['uploadStack']>[0], profiles: ProfileOverrides) {
  return proxyActivities<UploadActivities>(profile('upload', profiles)).uploadStack(input);
}
