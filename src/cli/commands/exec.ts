import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { configError } from '../../errors';
import { contextOf } from '../context';
import { containerArgv, opensshArgv, runOpenssh } from '../remoteShell';
import { setExitCode } from '../session';
import { withWorkspaces } from '../workspaces';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('exec')
    .argument('<name>', 'VM name')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-s, --service <service>', 'compose service (default: the devcontainer\'s primary service)')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .description("one command in a container of a VM's stack, for scripts; the exit code is the command's")
    .addHelpText('after', '\nExamples:\n  kamal-dev exec app-1 -- bin/rails test\n  kamal-dev exec app-1 --service db -- psql -U postgres -c "select 1"')
    .action(async (name: string, command: string[], options: { service?: string; tty?: boolean }, cmd: Command) => {
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
    });
}
