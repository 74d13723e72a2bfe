import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { configError } from '../../errors';
import { readSecretNames } from '../../spec/secrets';
import type { CliDeps } from '../deps';
import { withTemporal } from '../session';

export async function action(deps: CliDeps, options: { secrets?: string }, command: Command): Promise<void> {
  const secretsFile = options.secrets === undefined ? undefined : checkedSecretsFile(options.secrets);
  // The runtime's handlers of SIGINT and SIGTERM start a graceful shutdown: running activities get the grace time to finish.
  await withTemporal(
    deps,
    command,
    async ({ session, sourceQueue, worker, log }) => {
      const running = await worker();
      log(`worker polling ${session.settings.sharedQueue} and ${sourceQueue} on ${session.address} (namespace ${session.settings.namespace})`);
      if (secretsFile) log(`secrets: the environment, then ${secretsFile} (${readSecretNames(secretsFile).length} name(s))`);
      await running.run();
      log('worker stopped');
    },
    { logToFile: false, ...(secretsFile ? { secretsFile } : {}) },
  );
}

/** Read (not evaluated) before the worker starts, so a typo is a usage error now rather than a failed step later. */
function checkedSecretsFile(path: string): string {
  const file = resolve(path);
  if (!existsSync(file)) throw configError(`the secrets file ${file} does not exist`, { key: '--secrets', description: 'Give `kamal-dev worker --secrets` an existing file of NAME=value lines.' });
  readSecretNames(file);
  return file;
}
