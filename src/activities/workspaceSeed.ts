import { pushWorkspaceSeed } from '../images/seed';
import { composeFailure } from '../remote/pullAndUp';
import { withRegistryAccess } from '../remote/registryAccess';
import { reuseLiveSeed, seedWorkspaceOn } from '../remote/seedWorkspace';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import { asImageActivity, type BuildActivityDeps } from './imageActivity';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

// The workspace seed: pushed from the source machine (src/images/seed.ts), pulled and unpacked on each VM (src/remote/seedWorkspace.ts).

export function pushWorkspaceSeedActivity(deps: BuildActivityDeps): DeployActivities['pushWorkspaceSeed'] {
  return ({ plan }) => asImageActivity(deps, (signal) => pushWorkspaceSeed(plan, { resolveSecret: deps.secretsFor(plan), localRegistryImage: deps.localRegistryImage, signal }));
}

export function seedWorkspaceActivity(ctx: VmContext): DeployActivities['seedWorkspace'] {
  return ({ plan, vm, seed }) =>
    classified('ComposeInvalid', async () => {
      const session = await ctx.session(plan, vm);
      if (await reuseLiveSeed(session, plan, seed)) return plan.stack.workspace ? { workspace: 'kept' } : {};
      let result: { workspace?: string } = {};
      try {
        await withRegistryAccess(session, plan, await ctx.registryCredentials(plan), async (dockerConfig) => {
          result = await heartbeating('seed', (onLine) => seedWorkspaceOn(session, plan, seed, { dockerConfig, onLine }));
        });
      } catch (error) {
        throw composeFailure(error, vm.name);
      }
      return result;
    });
}
