import type { Command } from 'commander';
import { NO_CACHE_HELP, TAG_HELP } from '../context';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

/** `kamal-dev build [--tag T] [--no-cache]`: build only, recorded for `push` and `deploy --skip-build`. */
export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('build')
    .description('build the images of this project (no push); `kamal-dev push` pushes what was built last')
    .option('--tag <tag>', TAG_HELP)
    .option('--no-cache', NO_CACHE_HELP)
    .action(lazyAction(() => import('../commands/build'), deps));
}
