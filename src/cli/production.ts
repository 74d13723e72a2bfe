import { resolve } from 'node:path';
import type { TemporalConfig } from '../client/settings';
import { loadConfig } from '../spec/config';
import type { CliDeps } from './deps';

/** The real thing: this machine's activities and the project's `temporal:` config. */
export const productionDeps: CliDeps = {
  // Loaded by the commands that run a worker only (Docker, SSH and provider clients are heavy to load).
  activities: async ({ secretsFile }) => (await import('../activities')).createActivities({ secretsFile }),
  temporalConfig: (projectDir) => temporalConfigOf(projectDir),
};

/** config/dev.yml `temporal:` in the client's terms (TLS paths relative to the project). */
export function temporalConfigOf(projectDir: string): TemporalConfig {
  const { temporal } = loadConfig(projectDir);
  const tls = typeof temporal.tls === 'object' ? temporal.tls : undefined;
  return {
    address: temporal.address,
    namespace: temporal.namespace,
    taskQueue: temporal.taskQueue,
    tlsCert: tls?.cert_path && resolve(projectDir, tls.cert_path),
    tlsKey: tls?.key_path && resolve(projectDir, tls.key_path),
    apiKeyEnv: temporal.apiKeySecret,
    timeouts: temporal.timeouts,
  };
}
