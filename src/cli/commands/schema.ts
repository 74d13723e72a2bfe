import type { Command } from 'commander';
import { devConfigJsonSchema } from '../../spec/config-schema';
import type { CliDeps } from '../deps';
import { printerOf } from '../output';

/** `kamal-dev schema`: the JSON Schema of config/dev.yml, for editors (yaml-language-server: $schema=...). */
export async function action(deps: CliDeps, _options: unknown, command: Command): Promise<void> {
  const schema = devConfigJsonSchema();
  printerOf(command, deps).result({ outcome: 'ok', schema }, () => JSON.stringify(schema, null, 2));
}
