import { composeFailure, logsOfFailedContainers, pullAndUp } from '../remote/pullAndUp';
import { servicesToPull } from '../remote/imagesOnVm';
import { withRegistryAccess } from '../remote/registryAccess';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

/** composeUp of a workflow that predates releases: its swap can be rolled back by no one. */
const UNNAMED_RELEASE = 'unnamed';

export function composeUpActivity(ctx: VmContext): DeployActivities['composeUp'] {
  return ({ plan, vm, skipPush, release, pulled = [] }) =>
    classified('ComposeInvalid', async () => {
      const session = await ctx.session(plan, vm);
      try {
        // Images the VM holds at the registry's digest already are not pulled again: with none left, no tunnel or login either.
        const credentials = await ctx.registryCredentials(plan);
        const rest = Object.keys((plan.stack.compose.services ?? {}) as object).filter((s) => !pulled.includes(s));
        const stale = skipPush ? rest : await servicesToPull(session, plan, rest, credentials);
        const upToDate = rest.filter((s) => !stale.includes(s));
        const up = (dockerConfig?: string) =>
          heartbeating('compose', (onLine) => pullAndUp(session, plan, { skipPush, release: release ?? UNNAMED_RELEASE, onLine, dockerConfig, pulled: [...pulled, ...upToDate] }));
        return await (stale.length > 0 ? withRegistryAccess(session, plan, credentials, up) : up());
      } catch (error) {
        const logs = await logsOfFailedContainers(session, error, Object.values(await ctx.secrets(plan, plan.stack.secrets)));
        throw composeFailure(error, vm.name, logs);
      }
    });
}
