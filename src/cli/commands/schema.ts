import type { Command } from 'commander';
import { devConfigJsonSchema } from '../../spec/config-schema';
import type { CliDeps } from '../deps';

/** `kamal-dev schema`: the JSON Schema of config/dev.yml, for editors (yaml-language-server: $schema=...). */
export function register(program: Command, deps: CliDeps = {}): void {
  const stdout = deps.stdout ?? process.stdout;
  program
    .command('schema')
    .description('print the JSON Schema of config/dev.yml (for editor completion)')
    .action(() => {
      stdout.write(JSON.stringify(devConfigJsonSchema(), null, 2) + '\n');
    });
}
