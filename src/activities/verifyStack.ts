import { KamalDevError } from '../errors';
import { describeFailure, waitForStack } from '../remote/verify';
import { updateProjectState } from '../state/source';
import { heartbeat, heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

export function verifyStackActivity(ctx: VmContext): DeployActivities['verifyStack'] {
  return ({ plan, vm }) =>
    classified('StackUnhealthy', () =>
      heartbeating('verify', async () => {
        const session = await ctx.session(plan, vm);
        const outcome = await waitForStack(session, plan, {
          timeoutMs: ctx.deps.verifyTimeoutMs ?? 180_000,
          logTail: ctx.deps.logTail ?? 40,
          secretValues: Object.values(await ctx.secrets(plan, plan.stack.secrets)),
          onPoll: () => heartbeat('verify'),
        });
        await updateProjectState(plan, (state) => {
          const entry = state.deployments[vm.name];
          if (entry) entry.containers = outcome.containers.map(({ ports: _ports, ...c }) => c);
        });
        if (outcome.failing) {
          const { services, logs } = outcome.failing;
          throw new KamalDevError('compose', `${vm.name}: ${describeFailure(outcome.containers, services)}\n${logs}`, { type: 'StackUnhealthy' });
        }
        return outcome.containers;
      }),
    );
}
