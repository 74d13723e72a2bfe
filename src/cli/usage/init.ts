import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('init')
    .description('write a commented config/dev.yml (detecting the devcontainer) and a .kamal/secrets template')
    .option('--force', 'overwrite existing files')
    .action(lazyAction(() => import('../commands/init'), deps));
}
