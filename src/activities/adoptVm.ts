import { LABELS } from '../providers/types';
import { ensureSshKey } from '../ssh/keys';
import { classified } from './failures';
import type { LifecycleActivities } from './types';
import { handleOf, type VmContext } from './vmContext';
import { recordVm } from './vmRecord';

export function adoptVmActivity(ctx: VmContext): LifecycleActivities['adoptVm'] {
  return ({ plan, name }) =>
    classified('ProviderError', async () => {
      const provider = ctx.provider(plan);
      const instance = await provider.adopt(name, { sshPublicKey: (await ensureSshKey(plan)).publicKey });
      const index = Number(instance.labels[LABELS.index] ?? 0);
      const handle = handleOf({ deployment: plan.service, name, index }, instance, provider.type);
      await recordVm(plan, handle, instance.status);
      return handle;
    });
}
