import { proxyActivities } from '@temporalio/workflow';
import type { DeployActivities } from '../../../src/activities/types';

// A short retry policy: enough attempts to tell "retried" from "failed at once", fast enough for a test.
const { pushImages } = proxyActivities<Pick<DeployActivities, 'pushImages'>>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 1 },
});

export async function pushWorkflow(input: Parameters<DeployActivities['pushImages']>[0]) {
  return pushImages(input);
}
