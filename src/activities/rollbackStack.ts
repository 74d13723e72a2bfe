import { rollbackStackOn } from '../remote/rollback';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

export function rollbackStackActivity(ctx: VmContext): DeployActivities['rollbackStack'] {
  return ({ plan, vm, release }) =>
    classified('StackUnhealthy', async () => {
      const session = await ctx.session(plan, vm);
      const rolledBack = await heartbeating('rollback', async (onPoll) =>
        rollbackStackOn(session, plan, {
          release,
          timeoutMs: ctx.deps.verifyTimeoutMs ?? 180_000,
          logTail: ctx.deps.logTail ?? 40,
          secretValues: Object.values(await ctx.secrets(plan, plan.stack.secrets)),
          onPoll,
        }),
      );
      return { rolledBack };
    });
}
