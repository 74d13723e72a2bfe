import { composeFailure, pullServiceImages } from '../remote/pullAndUp';
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
        await withRegistryAccess(session, plan, await ctx.registryCredentials(plan), (dockerConfig) =>
          heartbeating('pull', (onLine) => pullServiceImages(session, plan, services, { onLine, dockerConfig })),
        );
      } catch (error) {
        throw composeFailure(error, vm.name);
      }
    });
}
