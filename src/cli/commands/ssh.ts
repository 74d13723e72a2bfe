import type { Command } from 'commander';
import type { VmHandle } from '../../domain/vm';
import { isKamalDevError } from '../../errors';
import type { DeployPlan } from '../../spec/plan';
import { runPostAttach } from '../attach';
import { contextOf } from '../context';
import type { CliDeps } from '../deps';
import { printerOf, type Printer } from '../output';
import { containerArgv, INTERACTIVE_SHELL, opensshArgv, runOpenssh } from '../remoteShell';
import { setExitCode } from '../session';
import { withWorkspaces } from '../workspaces';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('ssh')
    .argument('<name>', 'VM name')
    .argument('[command...]', 'a command to run instead of a shell (after --)')
    .option('--host', 'on the VM itself instead of in the devcontainer')
    .description(
      "a shell in the VM's devcontainer (the primary service, as remoteUser, in workspaceFolder, with remoteEnv), " +
        "or one command there; the exit code is the remote command's. An interactive shell runs devcontainer.json's postAttachCommand first",
    )
    .addHelpText('after', "\nExamples:\n  kamal-dev ssh app-1\n  kamal-dev ssh app-1 -- bin/rails db:migrate\n  kamal-dev ssh app-1 --host -- df -h")
    .action(async (name: string, command: string[], options: { host?: boolean }, cmd: Command) => {
      const context = contextOf(cmd);
      const interactive = command.length === 0;
      const tty = interactive && process.stdin.isTTY === true;
      const argv = await withWorkspaces(context.projectDir, async ({ plan, devcontainer, select }) => {
        const [vm] = await select([name]);
        if (interactive && !options.host) await attachOrSay(plan, vm, printerOf(cmd, deps));
        if (options.host) return opensshArgv(plan, vm, { argv: interactive ? undefined : command, tty: interactive });
        const inContainer = containerArgv(plan, devcontainer, plan.stack.primaryService, interactive ? INTERACTIVE_SHELL : command, tty);
        return opensshArgv(plan, vm, { argv: inContainer, root: true, tty });
      }, { deps, command: cmd });
      setExitCode(cmd, runOpenssh(argv));
    });
}

/** A failed postAttachCommand is said, and the shell still opens: the person may be there to fix it. */
async function attachOrSay(plan: DeployPlan, vm: VmHandle, print: Printer): Promise<void> {
  try {
    // The remote's own output, as the shell's will be.
    await runPostAttach(plan, vm, { stdout: print.stdout, stderr: print.stderr });
  } catch (error) {
    if (!isKamalDevError(error) || error.kind !== 'compose') throw error;
    print.note(`kamal-dev: ${error.message}; opening the shell anyway${error.description ? `\n${error.description}` : ''}`);
  }
}
