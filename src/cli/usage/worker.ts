import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('worker')
    .description('run a long-lived worker: picks up open deploys and runs the steps of new ones (Ctrl-C or SIGTERM stops it gracefully)')
    .option('--secrets <file>', "this worker's secrets (NAME=value lines, as .kamal/secrets); its environment overrides them")
    .action(lazyAction(() => import('../commands/worker'), deps));
}
