import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('adopt')
    .argument('<names...>', 'VM names')
    .description("make VMs of these names this project's (made by another checkout, or before project identities)")
    .action(lazyAction(() => import('../commands/adopt'), deps));
}
