import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

/** `kamal-dev push [--tag T] [--keep]`: pushes exactly what `build` made last; never builds, never invents a tag. */
export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('push')
    .description('push the images built last by `kamal-dev build`, and verify them in the registry')
    .option('--tag <tag>', 'the tag that was built (default: the last build)')
    .option('--keep', 'keep a local tag this push created even when the push fails')
    .action(lazyAction(() => import('../commands/push'), deps));
}
