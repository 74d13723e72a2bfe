import { Command, CommanderError } from 'commander';
import * as adoptCommand from './usage/adopt';
import * as buildCommand from './usage/build';
import * as cancelCommand from './usage/cancel';
import * as deployCommand from './usage/deploy';
import * as deploysCommand from './usage/deploys';
import * as execCommand from './usage/exec';
import * as forwardCommand from './usage/forward';
import * as initCommand from './usage/init';
import * as lifecycleCommands from './usage/lifecycle';
import * as listCommand from './usage/list';
import * as logsCommand from './usage/logs';
import * as planCommand from './usage/plan';
import * as pushCommand from './usage/push';
import * as schemaCommand from './usage/schema';
import * as serverCommand from './usage/server';
import * as sshCommand from './usage/ssh';
import * as sshConfigCommand from './usage/sshConfig';
import * as statusCommand from './usage/status';
import * as workerCommand from './usage/worker';
import type { CliDeps } from './deps';
import { GlobalOptions, printer, reportError } from './output';
import { exitCodeOf } from './exitCode';

type CommandModule = { register(program: Command, deps: CliDeps): void };

/**
 * Every file of ./usage exports register(program, deps): the command's flags and help, and an action
 * that loads its file of ./commands when it runs. Add new commands here, in the order help lists them.
 */
const COMMANDS: CommandModule[] = [
  initCommand,
  planCommand,
  buildCommand,
  pushCommand,
  deployCommand,
  deploysCommand,
  listCommand,
  statusCommand,
  lifecycleCommands,
  adoptCommand,
  sshCommand,
  execCommand,
  sshConfigCommand,
  forwardCommand,
  logsCommand,
  cancelCommand,
  workerCommand,
  serverCommand,
  schemaCommand,
];

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../../package.json') as { version: string };

/** The program with its global options and, unless told otherwise (tests), every command. */
export function buildProgram(deps: CliDeps = {}, commands: CommandModule[] = COMMANDS): Command {
  const program = new Command('kamal-dev')
    .description("Deploy a project's devcontainer as N isolated development workspaces on VMs, orchestrated by Temporal.")
    .version(version, '-V, --version')
    .option('--verbose', 'show stack traces and every command that runs')
    .option('--json', 'machine-readable output')
    .option('-C, --cwd <dir>', 'project directory (default: the current directory)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of commands) command.register(program, deps);
  return program;
}

export async function main(argv: string[], deps: CliDeps = {}): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync(argv);
    return exitCodeOf(program);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit 0; usage errors have already been printed on stderr.
      if (error.exitCode === 0) return 0;
      // Parsing stopped before the options were read: a script's --json still gets its document.
      if (argv.includes('--json')) printer(true, deps).stream({ outcome: 'error', kind: 'config', message: error.message.replace(/^error: /, ''), description: null });
      return 2;
    }
    return reportError(error, program.opts<GlobalOptions>(), deps);
  }
}
