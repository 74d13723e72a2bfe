import { startEngineIfInstalled } from '../remote/bootstrap';
import { currentActivity, heartbeating } from './activityContext';
import { classified } from './failures';
import type { LifecycleActivities } from './types';
import { handleOf, type VmContext } from './vmContext';
import { recordVm } from './vmRecord';

export function startVmActivity(ctx: VmContext): LifecycleActivities['startVm'] {
  return ({ plan, vm }) =>
    classified('ProviderError', () =>
      heartbeating('start', async () => {
        const provider = ctx.provider(plan);
        const handle = handleOf(vm, await provider.start(vm.name, currentActivity()?.cancellationSignal), provider.type);
        // The ssh provider restarts the stack itself; a restarted machine needs its engine and stack back.
        if (provider.type !== 'ssh') await startEngineIfInstalled(await ctx.session(plan, handle), plan);
        await recordVm(plan, handle, 'running');
        return handle;
      }),
    );
}
