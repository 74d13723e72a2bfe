import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

/** `kamal-dev schema`: the JSON Schema of config/dev.yml, for editors (yaml-language-server: $schema=...). */
export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('schema')
    .description('print the JSON Schema of config/dev.yml (for editor completion; with --json inside {outcome, schema})')
    .action(lazyAction(() => import('../commands/schema'), deps));
}
