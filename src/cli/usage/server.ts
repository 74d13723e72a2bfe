import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  const server = program.command('server').description("the embedded Temporal dev server (data in .kamal/temporal)");
  server
    .command('status')
    .description('whether the embedded server runs, and where')
    .action(lazyAction(() => import('../commands/server'), deps, 'status'));
  server
    .command('stop')
    .description('stop the embedded server (its data stays; running deploys resume when it starts again)')
    .action(lazyAction(() => import('../commands/server'), deps, 'stop'));
}
