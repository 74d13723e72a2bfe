import type { Command } from 'commander';
import { COUNT_HELP, FROM_HELP, parseCount, TAG_HELP } from '../context';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('plan')
    .description('show what a deploy would build, push and run (no side effects)')
    .option('--count <n>', COUNT_HELP, parseCount)
    .option('--tag <tag>', TAG_HELP)
    .option('--from <path>', FROM_HELP)
    .action(lazyAction(() => import('../commands/plan'), deps));
}
