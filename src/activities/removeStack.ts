import { removeStackOn } from '../remote/stackControl';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { LifecycleActivities } from './types';
import type { VmContext } from './vmContext';

export function removeStackActivity(ctx: VmContext): LifecycleActivities['removeStack'] {
  return ({ plan, vm }) =>
    classified('ProviderError', () =>
      heartbeating('remove stack', async () => {
        // Only on this project's VM of that name, reached where the provider says it is now. A stopped
        // machine's stack goes with it when destroyVm runs; SSH into it would only time out.
        const ours = await ctx.findVm(plan, vm.name);
        if (!ours || ours.status === 'stopped') return;
        await removeStackOn(await ctx.session(plan, ours), plan);
      }),
    );
}
