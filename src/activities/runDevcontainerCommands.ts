import { runDevcontainerCommands } from '../remote/devcontainerCommands';
import { heartbeating } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

export function runDevcontainerCommandsActivity(ctx: VmContext): DeployActivities['runDevcontainerCommands'] {
  return ({ plan, vm }) =>
    classified('DevcontainerCommandFailed', async () => {
      // The stack's secrets too: a command's output (`env`, a stack trace) may show them, and they are redacted from it.
      const secrets = await ctx.secrets(plan, [...new Set([...plan.stack.secrets, ...(plan.stack.lifecycle?.secrets ?? [])])]);
      const session = await ctx.session(plan, vm);
      return heartbeating('devcontainer commands', (onLine) => runDevcontainerCommands(session, plan, vm.name, onLine, secrets));
    });
}
