import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { DeployActivities } from '../../../src/activities/types';

type ImageActivities = Pick<DeployActivities, 'buildImages' | 'pushImages'>;

// A short retry policy: enough attempts to tell "retried" from "failed at once", fast enough for a test.
const { buildImages, pushImages } = proxyActivities<ImageActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '3 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { maximumAttempts: 3, initialInterval: '200ms', backoffCoefficient: 1 },
});

export async function pushWorkflow(input: Parameters<ImageActivities['pushImages']>[0]) {
  return pushImages(input);
}

export async function buildWorkflow(input: Parameters<ImageActivities['buildImages']>[0]) {
  return buildImages(input);
}
