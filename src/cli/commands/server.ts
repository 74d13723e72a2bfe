import type { Command } from 'commander';
import { embeddedServerStatus, stopEmbeddedServer } from '../../client/embedded';
import { contextOf } from '../context';
import type { CliDeps } from '../deps';
import { printerOf } from '../output';

export function register(program: Command, deps: CliDeps): void {
  const server = program.command('server').description("the embedded Temporal dev server (data in .kamal/temporal)");
  const projectDir = (command: Command) => contextOf(command).projectDir;

  server
    .command('status')
    .description('whether the embedded server runs, and where')
    .action(async (_options: unknown, command: Command) => {
      const status = await embeddedServerStatus(projectDir(command));
      printerOf(command, deps).result({ outcome: 'ok', ...status }, () =>
        status.running
          ? `running (pid ${status.pid}) on ${status.address}, Web UI ${status.ui}, data ${status.dbFile}`
          : `not running (data ${status.dbFile}; it starts with the next command that needs it)`,
      );
    });

  server
    .command('stop')
    .description('stop the embedded server (its data stays; running deploys resume when it starts again)')
    .action(async (_options: unknown, command: Command) => {
      const stopped = await stopEmbeddedServer(projectDir(command));
      printerOf(command, deps).result({ outcome: 'ok', stopped }, () => (stopped ? 'stopped' : 'not running'));
    });
}
