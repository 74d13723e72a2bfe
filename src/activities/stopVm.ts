import { updateProjectState } from '../state/source';
import { currentActivity, heartbeating } from './activityContext';
import { classified } from './failures';
import type { LifecycleActivities } from './types';
import type { VmContext } from './vmContext';

export function stopVmActivity(ctx: VmContext): LifecycleActivities['stopVm'] {
  return ({ plan, vm }) =>
    classified('ProviderError', () =>
      heartbeating('stop', async () => {
        await ctx.provider(plan).stop(vm.name, currentActivity()?.cancellationSignal);
        await updateProjectState(plan, (state) => {
          if (state.deployments[vm.name]) state.deployments[vm.name].status = 'stopped';
        });
      }),
    );
}
