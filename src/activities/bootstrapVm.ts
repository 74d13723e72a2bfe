import { bootstrapOn } from '../remote/bootstrap';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

export function bootstrapVmActivity(ctx: VmContext): DeployActivities['bootstrapVm'] {
  return ({ plan, vm }) => classified('UnsupportedOs', async () => heartbeating('apt', async (onLine) => bootstrapOn(await ctx.session(plan, vm), onLine)));
}
