import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyRegistryError, loginArgv } from '../docker/registry';
import { CommandFailedError, run } from '../docker/runner';
import type { RegistryCredentials } from '../registry/manifest';
import { ImageError } from './errors';

export const dockerHostArgv = (): string[] => ['docker', 'context', 'inspect', '--format', '{{.Endpoints.docker.Host}}'];

/**
 * Runs `work` with docker logged in to `server` through a throwaway Docker config directory: the
 * credentials never stay in ~/.docker, and concurrent logins to other registries never mix. The
 * current context's engine is pinned with DOCKER_HOST, since contexts live in the config directory.
 */
export async function withRegistryLogin<T>(
  server: string,
  credentials: RegistryCredentials | undefined,
  signal: AbortSignal | undefined,
  work: (env: Record<string, string>) => Promise<T>,
): Promise<T> {
  if (!credentials) return work({});
  const configDir = mkdtempSync(join(tmpdir(), 'kamal-dev-docker-config-'));
  try {
    const env: Record<string, string> = { DOCKER_CONFIG: configDir };
    if (!process.env.DOCKER_HOST) {
      const host = (await run(dockerHostArgv(), { signal })).stdout.trim();
      if (host) env.DOCKER_HOST = host;
    }
    try {
      await run(loginArgv(server, credentials.username), { input: credentials.password, env, signal, secrets: [credentials.password] });
    } catch (error) {
      if (!(error instanceof CommandFailedError)) throw error;
      throw registryFailure(`logging in to ${server} as ${credentials.username}`, server, error);
    }
    return await work(env);
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
}

/** Wrong credentials cannot get better by retrying; a registry that is down or erring can. */
export function registryFailure(doing: string, server: string, error: CommandFailedError): ImageError {
  const kind = classifyRegistryError(error.stderr);
  if (kind === 'auth') {
    return new ImageError('RegistryAuthFailed', 'registry', `the registry ${server} refused ${doing}: wrong credentials or no access`, {
      retry: 'bad-input',
      description: `${error.tail}\nCheck the registry username and password (or token) in the secrets file, and that they may push to this repository.`,
      cause: error,
    });
  }
  if (kind === 'unreachable' || kind === 'server') {
    return new ImageError('RegistryUnavailable', 'registry', `the registry ${server} is not reachable or failing (${doing})`, {
      description: error.tail,
      retry: 'transient',
      cause: error,
    });
  }
  return new ImageError('PushFailed', 'registry', `${doing} failed`, { description: error.tail, retry: 'transient', cause: error });
}
