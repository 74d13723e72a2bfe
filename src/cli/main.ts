import { Command, CommanderError } from 'commander';
import * as buildCommand from './commands/build';
import * as initCommand from './commands/init';
import * as listCommand from './commands/list';
import * as logsCommand from './commands/logs';
import * as planCommand from './commands/plan';
import * as pushCommand from './commands/push';
import * as schemaCommand from './commands/schema';
import * as sshCommand from './commands/ssh';
import * as statusCommand from './commands/status';
import { GlobalOptions, reportError } from './output';

/** Every command file exports register(program); add new commands here. */
const COMMANDS: { register(program: Command): void }[] = [
  initCommand,
  planCommand,
  buildCommand,
  pushCommand,
  listCommand,
  statusCommand,
  sshCommand,
  logsCommand,
  schemaCommand,
];

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../../package.json') as { version: string };

/** The program with its global options and, unless told otherwise (tests), every command. */
export function buildProgram(commands: { register(program: Command): void }[] = COMMANDS): Command {
  const program = new Command('kamal-dev')
    .description("Deploy a project's devcontainer as N isolated development workspaces on VMs, orchestrated by Temporal.")
    .version(version, '-V, --version')
    .option('--verbose', 'show stack traces and every command that runs')
    .option('--json', 'machine-readable output')
    .option('-C, --cwd <dir>', 'project directory (default: the current directory)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of commands) command.register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with exit 0; usage errors have already been printed.
      return error.exitCode === 0 ? 0 : 2;
    }
    return reportError(error, program.opts<GlobalOptions>());
  }
}
