import type { Command } from 'commander';
import type { VmHandle } from '../../domain/vm';
import { isKamalDevError } from '../../errors';
import type { DeployPlan } from '../../spec/plan';
import { runPostAttach } from '../attach';
import { contextOf } from '../context';
import type { CliDeps } from '../deps';
import { printerOf, type Printer } from '../output';
import { containerArgv, INTERACTIVE_SHELL, opensshArgv, runOpenssh } from '../remoteShell';
import { setExitCode } from '../exitCode';
import { withWorkspaces } from '../workspaces';

export async function action(deps: CliDeps, name: string, command: string[], options: { host?: boolean }, cmd: Command): Promise<void> {
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
