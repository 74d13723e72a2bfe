import type { Command } from 'commander';
import { devConfigJsonSchema } from '../../spec/config-schema';

/** `kamal-dev schema`: the JSON Schema of config/dev.yml, for editors (yaml-language-server: $schema=...). */
export function register(program: Command, stdout: NodeJS.WritableStream = process.stdout): void {
  program
    .command('schema')
    .description('print the JSON Schema of config/dev.yml (for editor completion)')
    .action(() => {
      stdout.write(JSON.stringify(devConfigJsonSchema(), null, 2) + '\n');
    });
}
