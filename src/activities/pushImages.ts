import { pushImages } from '../images/push';
import { asImageActivity, type BuildActivityDeps } from './imageActivity';
import type { DeployActivities } from './types';

export function pushImagesActivity(deps: BuildActivityDeps): DeployActivities['pushImages'] {
  return ({ plan, images }) =>
    asImageActivity(deps, (signal, report) =>
      pushImages(plan, images, {
        resolveSecret: deps.secretsFor(plan),
        localRegistryImage: deps.localRegistryImage,
        signal,
        onEvent: (image, event) => report({ phase: 'push', image, event }),
      }),
    );
}
