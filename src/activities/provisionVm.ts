import { LABELS } from '../providers/types';
import { publicHostPorts } from '../spec/compose-ports';
import { vmSecretNames } from '../spec/resolve-parts';
import { ensureSshKey } from '../ssh/keys';
import { attemptDeadline, currentActivity, heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import { handleOf, type VmContext } from './vmContext';
import { recordVm } from './vmRecord';

export function provisionVmActivity(ctx: VmContext): DeployActivities['provisionVm'] {
  return ({ plan, vm, createdBy }) =>
    classified('ProviderError', () =>
      heartbeating('provision', async () => {
        // This worker must hold every credential of the VM's steps: a missing one fails here, before a VM exists.
        for (const name of vmSecretNames(plan)) await ctx.deps.resolveSecret(name, plan);
        const { publicKey } = await ensureSshKey(plan);
        const provider = ctx.provider(plan);
        const labels = { [LABELS.service]: plan.service, [LABELS.deployment]: vm.deployment, [LABELS.index]: String(vm.index) };
        const openPorts = publicHostPorts((plan.stack.compose.services ?? {}) as Record<string, Record<string, unknown>>);
        const request = { name: vm.name, labels, createdBy, sshPublicKey: publicKey, openPorts, deadline: attemptDeadline() };
        const instance = await provider.provision(request, currentActivity()?.cancellationSignal);
        const handle = { ...handleOf(vm, instance, provider.type), created: instance.created };
        await recordVm(plan, handle, 'provisioned');
        return handle;
      }),
    );
}
