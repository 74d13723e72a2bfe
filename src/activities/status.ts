import { readCommandFailures } from '../remote/commandFailures';
import { hasStack } from '../remote/stackControl';
import { stackRef } from '../remote/stackDir';
import { stackStates } from '../remote/verify';
import { classified } from './failures';
import type { LifecycleActivities } from './types';
import type { VmContext } from './vmContext';

/** What `kamal-dev status` reads from a running VM: its containers, and the lifecycle commands that failed there. */
export function statusActivities(ctx: VmContext): Pick<LifecycleActivities, 'stackStatus' | 'commandFailures'> {
  return {
    stackStatus: ({ plan, vm }) =>
      classified('ProviderError', async () => {
        if ((await ctx.findVm(plan, vm.name))?.status !== 'running') return [];
        const session = await ctx.session(plan, vm);
        if (!(await hasStack(session, stackRef(plan).dir))) return [];
        return (await stackStates(session, plan)).map(({ exitCode: _exitCode, ...rest }) => rest);
      }),

    commandFailures: ({ plan, vm }) =>
      classified('ProviderError', async () => {
        if ((await ctx.findVm(plan, vm.name))?.status !== 'running') return [];
        return readCommandFailures(await ctx.session(plan, vm), stackRef(plan).dir);
      }),
  };
}
