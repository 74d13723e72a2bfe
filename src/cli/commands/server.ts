import { resolve } from 'node:path';
import type { Command } from 'commander';
import { embeddedServerStatus, stopEmbeddedServer } from '../../client/embedded';
import type { CliDeps } from '../deps';

export function register(program: Command, deps: CliDeps): void {
  const server = program.command('server').description("the embedded Temporal dev server (data in .kamal/temporal)");
  const projectDir = (command: Command) => resolve(command.optsWithGlobals<{ cwd?: string }>().cwd ?? process.cwd());
  const out = () => deps.stdout ?? process.stdout;

  server
    .command('status')
    .description('whether the embedded server runs, and where')
    .action(async (_options: unknown, command: Command) => {
      const status = await embeddedServerStatus(projectDir(command));
      if (command.optsWithGlobals<{ json?: boolean }>().json) out().write(JSON.stringify(status) + '\n');
      else if (status.running) out().write(`running (pid ${status.pid}) on ${status.address}, Web UI ${status.ui}, data ${status.dbFile}\n`);
      else out().write(`not running (data ${status.dbFile}; it starts with the next command that needs it)\n`);
    });

  server
    .command('stop')
    .description('stop the embedded server (its data stays; running deploys resume when it starts again)')
    .action(async (_options: unknown, command: Command) => {
      const stopped = await stopEmbeddedServer(projectDir(command));
      out().write(stopped ? 'stopped\n' : 'not running\n');
    });
}
