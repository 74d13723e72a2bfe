import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RegistryCredentials } from '../registry/manifest';
import { fetchOciFeature } from '../registry/oci-feature';
import type { FetchFeature } from './features-load';
import type { RegistryPlan } from './plan';

/** Where fetched features are kept, by manifest digest: shared by every project on this machine. */
export function featureCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kamal-dev', 'features');
}

/**
 * Fetches OCI features with the credentials images use: the configured registry's (by secret name,
 * resolved here on the source machine and never passed on), else the Docker config's `auths` entry
 * for that host, else none (a public feature).
 */
export function ociFeatureFetcher(registry: RegistryPlan, resolveSecret: (name: string) => string, env: NodeJS.ProcessEnv, signal?: AbortSignal): FetchFeature {
  return async (source, pinned) => {
    const credentials = (source.registry === registry.server ? configuredCredentials(registry, resolveSecret) : undefined) ?? dockerConfigCredentials(source.registry, env);
    const fetched = await fetchOciFeature({ registry: source.registry, repository: source.repository, reference: pinned ?? source.tag }, featureCacheDir(env), credentials, signal);
    return { dir: fetched.dir, digest: fetched.manifestDigest };
  };
}

function configuredCredentials(registry: RegistryPlan, resolveSecret: (name: string) => string): RegistryCredentials | undefined {
  if (registry.local || !registry.usernameSecret || !registry.passwordSecret) return undefined;
  return { username: resolveSecret(registry.usernameSecret), password: resolveSecret(registry.passwordSecret) };
}

/** `docker login`'s stored `auths[host].auth` (base64 of user:password); credential helpers are not asked. */
export function dockerConfigCredentials(host: string, env: NodeJS.ProcessEnv): RegistryCredentials | undefined {
  const file = join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
  if (!existsSync(file)) return undefined;
  try {
    const auths = (JSON.parse(readFileSync(file, 'utf8')) as { auths?: Record<string, { auth?: string }> }).auths ?? {};
    const auth = (auths[host] ?? auths[`https://${host}`] ?? auths[`http://${host}`])?.auth;
    if (!auth) return undefined;
    const decoded = Buffer.from(auth, 'base64').toString();
    const colon = decoded.indexOf(':');
    return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
  } catch {
    return undefined;
  }
}
