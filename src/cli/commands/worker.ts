import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { withTemporal } from '../session';

export function register(program: Command, deps: CliDeps): void {
  program
    .command('worker')
    .description('run a long-lived worker: picks up open deploys and runs the steps of new ones (Ctrl-C or SIGTERM stops it gracefully)')
    .action(async (_options: unknown, command: Command) => {
      // The runtime's handlers of SIGINT and SIGTERM start a graceful shutdown: running activities get the grace time to finish.
      await withTemporal(
        deps,
        command,
        async ({ session, sourceQueue, worker, log }) => {
          const running = await worker();
          log(`worker polling ${session.settings.sharedQueue} and ${sourceQueue} on ${session.address} (namespace ${session.settings.namespace})`);
          await running.run();
          log('worker stopped');
        },
        { logToFile: false },
      );
    });
}
