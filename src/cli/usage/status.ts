import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('status')
    .argument('[names...]', 'VM names (default: every VM of this project)')
    .option('--all', 'every VM of this project (the default when no name is given)')
    .description('live state of every service on the VMs: state, health, ports')
    .action(lazyAction(() => import('../commands/status'), deps));
}
