import { LABELS } from '../providers/types';
import { classified } from './failures';
import type { LifecycleActivities } from './types';
import { handleOf, type VmContext } from './vmContext';

export function listVmsActivity(ctx: VmContext): LifecycleActivities['listVms'] {
  return ({ plan }) =>
    classified('ProviderError', async () => {
      const provider = ctx.provider(plan);
      const vms = await provider.list({ [LABELS.deployment]: plan.service });
      return vms.map((v) => ({
        ...handleOf({ deployment: plan.service, name: v.name, index: Number(v.labels[LABELS.index] ?? 0) }, v, provider.type),
        status: v.status,
      }));
    });
}
