import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('list')
    .alias('ls')
    .description("list this project's VMs (from the provider) with the containers last seen on each")
    .action(lazyAction(() => import('../commands/list'), deps));
}
