import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { configError } from '../../errors';
import { contextOf } from '../context';
import { containerArgv, opensshArgv, runOpenssh } from '../remoteShell';
import { setExitCode } from '../exitCode';
import { withWorkspaces } from '../workspaces';

export async function action(deps: CliDeps, name: string, command: string[], options: { service?: string; tty?: boolean }, cmd: Command): Promise<void> {
  const context = contextOf(cmd);
  const argv = await withWorkspaces(context.projectDir, async ({ plan, devcontainer, select }) => {
    const service = options.service ?? plan.stack.primaryService;
    const services = Object.keys((plan.stack.compose.services ?? {}) as Record<string, unknown>);
    if (!services.includes(service)) {
      throw configError(`no service named ${service} in the stack of ${plan.service}`, { key: '--service', description: `Services: ${services.join(', ')}.` });
    }
    const [vm] = await select([name]);
    return opensshArgv(plan, vm, { argv: containerArgv(plan, devcontainer, service, command, options.tty === true), root: true, tty: options.tty === true });
  }, { deps, command: cmd });
  setExitCode(cmd, runOpenssh(argv));
}
