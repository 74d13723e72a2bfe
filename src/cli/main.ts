import { Command, CommanderError } from 'commander';
import { register as registerCancel } from './commands/cancel';
import { register as registerDeploy } from './commands/deploy';
import { register as registerServer } from './commands/server';
import { register as registerWorker } from './commands/worker';
import type { CliDeps } from './deps';
import { GlobalOptions, reportError } from './output';
import { exitCodeOf } from './session';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../../package.json') as { version: string };

export function buildProgram(deps: CliDeps = {}): Command {
  const program = new Command('kamal-dev')
    .description("Deploy a project's devcontainer as N isolated development workspaces on VMs, orchestrated by Temporal.")
    .version(version, '-V, --version')
    .option('--verbose', 'show stack traces and every command that runs')
    .option('--json', 'machine-readable output')
    .option('-C, --cwd <dir>', 'project directory (default: the current directory)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of [registerDeploy, registerCancel, registerWorker, registerServer]) register(program, deps);
  return program;
}

export async function main(argv: string[], deps: CliDeps = {}): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync(argv);
    return exitCodeOf(program);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit 0; usage errors have already been printed.
      return error.exitCode === 0 ? 0 : 2;
    }
    return reportError(error, program.opts<GlobalOptions>());
  }
}
