import { composeFailure, pullServiceImages } from '../remote/pullAndUp';
import { startEarly } from '../remote/earlyStart';
import { builtInRegistry, servicesToPull } from '../remote/imagesOnVm';
import { withRegistryAccess } from '../remote/registryAccess';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

/**
 * The unbuilt services' images, and the built ones the registry already has; on a VM new to the
 * stack the unbuilt services that need nothing else start as soon as their images are there
 * (src/remote/earlyStart.ts), while the built images still come down.
 */
export function pullImagesActivity(ctx: VmContext): DeployActivities['pullImages'] {
  return ({ plan, vm, services }) =>
    classified('ComposeInvalid', async () => {
      const session = await ctx.session(plan, vm);
      try {
        const credentials = await ctx.registryCredentials(plan);
        const early = (await builtInRegistry(plan, credentials)).filter((s) => !services.includes(s));
        const stale = await servicesToPull(session, plan, [...services, ...early], credentials);
        const pull = (dockerConfig: string | undefined, which: string[], onLine: () => void) => pullServiceImages(session, plan, which, { onLine, dockerConfig });
        const pullAndStart = (dockerConfig?: string) =>
          heartbeating('pull', async (onLine) => {
            const [started] = await Promise.all([
              pull(dockerConfig, stale.filter((s) => services.includes(s)), onLine).then(() => startEarly(session, plan, services, { onLine, dockerConfig })),
              pull(dockerConfig, stale.filter((s) => !services.includes(s)), onLine),
            ]);
            return { started };
          });
        return await (stale.length > 0 ? withRegistryAccess(session, plan, credentials, pullAndStart) : pullAndStart());
      } catch (error) {
        throw composeFailure(error, vm.name);
      }
    });
}
