import { forgetHost, knownHostsFile } from '../ssh/knownHosts';
import { holdsProject, updateProjectState } from '../state/source';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

export function destroyVmActivity(ctx: VmContext): DeployActivities['destroyVm'] {
  return ({ plan, vm, createdBy }) =>
    classified('ProviderError', () =>
      heartbeating('destroy', async () => {
        const provider = ctx.provider(plan);
        const existing = await ctx.findVm(plan, vm.name);
        const outcome = await provider.destroy(vm.name, { createdBy });
        if (outcome === 'kept') return { outcome };
        if (existing) {
          await ctx.pool(plan).drop(existing.ssh);
          // A machine that is gone takes its host key along; the next one on this address is a new host.
          if (provider.type !== 'ssh' && holdsProject(plan)) forgetHost(knownHostsFile(plan), existing.ssh.host, existing.ssh.port);
        }
        await updateProjectState(plan, (state) => void delete state.deployments[vm.name]);
        return { outcome };
      }),
    );
}
