import type { Command } from 'commander';
import { wholeNumberFlag } from '../context';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

/** `kamal-dev deploys`: this project's running and recent deploys, from any machine that started them. */
export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('deploys')
    .description("this project's running and recent deploys, newest first, with their Web UI links")
    .option('--limit <n>', 'how many (default 10, at most 100)', wholeNumberFlag('--limit', 100), 10)
    .action(lazyAction(() => import('../commands/deploys'), deps));
}
