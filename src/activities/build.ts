import { buildImages, removeBuildImages } from '../images/build';
import { recordedImages } from '../images/recorded';
import { asImageActivity, type BuildActivityDeps } from './imageActivity';
import { pushImagesActivity } from './pushImages';
import type { DeployActivities } from './types';
import { pushWorkspaceSeedActivity } from './workspaceSeed';

type BuildActivities = Pick<DeployActivities, 'buildImages' | 'pushImages' | 'pushWorkspaceSeed' | 'removeBuildImages' | 'checkImages'>;

/** The steps that need the project's folder and the source machine's engine: build, push, the workspace seed. */
export function createBuildActivities(deps: BuildActivityDeps): BuildActivities {
  return {
    buildImages: ({ plan, buildId, noCache }) =>
      asImageActivity(deps, (signal, report) =>
        buildImages(plan, {
          buildId,
          noCache,
          resolveSecret: deps.secretsFor(plan),
          signal,
          onEvent: (service, event) => report({ phase: 'build', service, event }),
        }),
      ),
    pushImages: pushImagesActivity(deps),
    pushWorkspaceSeed: pushWorkspaceSeedActivity(deps),
    checkImages: ({ plan }) => asImageActivity(deps, () => recordedImages(plan)),
    removeBuildImages: ({ buildId }) => asImageActivity(deps, async (signal) => void (await removeBuildImages(buildId, signal))),
  };
}
