import type { Command } from 'commander';
import { devConfigJsonSchema } from '../../spec/config-schema';
import type { CliDeps } from '../deps';
import { printerOf } from '../output';

/** `kamal-dev schema`: the JSON Schema of config/dev.yml, for editors (yaml-language-server: $schema=...). */
export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('schema')
    .description('print the JSON Schema of config/dev.yml (for editor completion; with --json inside {outcome, schema})')
    .action((_options: unknown, command: Command) => {
      const schema = devConfigJsonSchema();
      printerOf(command, deps).result({ outcome: 'ok', schema }, () => JSON.stringify(schema, null, 2));
    });
}
