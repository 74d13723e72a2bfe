import { composeFailure, pullServiceImages } from '../remote/pullAndUp';
import { builtInRegistry, servicesToPull } from '../remote/imagesOnVm';
import { withRegistryAccess } from '../remote/registryAccess';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

export function pullImagesActivity(ctx: VmContext): DeployActivities['pullImages'] {
  return ({ plan, vm, services }) =>
    classified('ComposeInvalid', async () => {
      const session = await ctx.session(plan, vm);
      try {
        const credentials = await ctx.registryCredentials(plan);
        const early = (await builtInRegistry(plan, credentials)).filter((s) => !services.includes(s));
        const stale = await servicesToPull(session, plan, [...services, ...early], credentials);
        if (stale.length === 0) return;
        await withRegistryAccess(session, plan, credentials, (dockerConfig) =>
          heartbeating('pull', (onLine) => pullServiceImages(session, plan, stale, { onLine, dockerConfig })),
        );
      } catch (error) {
        throw composeFailure(error, vm.name);
      }
    });
}
