import { composeFailure, logsOfFailedContainers, pullAndUp } from '../remote/pullAndUp';
import { withRegistryAccess } from '../remote/registryAccess';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

/** composeUp of a workflow that predates releases: its swap can be rolled back by no one. */
const UNNAMED_RELEASE = 'unnamed';

export function composeUpActivity(ctx: VmContext): DeployActivities['composeUp'] {
  return ({ plan, vm, skipPush, release, pulled }) =>
    classified('ComposeInvalid', async () => {
      const session = await ctx.session(plan, vm);
      try {
        await withRegistryAccess(session, plan, await ctx.registryCredentials(plan), (dockerConfig) =>
          heartbeating('compose', (onLine) => pullAndUp(session, plan, { skipPush, release: release ?? UNNAMED_RELEASE, onLine, dockerConfig, pulled })),
        );
      } catch (error) {
        const logs = await logsOfFailedContainers(session, error, Object.values(await ctx.secrets(plan, plan.stack.secrets)));
        throw composeFailure(error, vm.name, logs);
      }
    });
}
