import { homedir } from 'node:os';
import { join } from 'node:path';
import { registryCredentialsFor, type ResolveSecret } from '../images/credentials';
import { fetchTarballFeature } from '../registry/feature-tarball';
import { fetchOciFeature } from '../registry/oci-feature';
import type { FetchFeature } from './features-load';
import type { RegistryPlan } from './plan';

/** Where fetched features are kept, by digest: shared by every project on this machine. */
export function featureCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'kamal-dev', 'features');
}

/**
 * Fetches remote features on the source machine. OCI features with the credentials images use
 * (config/dev.yml's registry by secret name, resolved here and never passed on, else the Docker
 * config); tarballs as the reference CLI does, with GITHUB_TOKEN (a secret, when set) for github.com.
 */
export function remoteFeatureFetcher(where: { registry: RegistryPlan; secretsFile: string; resolveSecret: ResolveSecret; env: NodeJS.ProcessEnv; signal?: AbortSignal }): FetchFeature {
  const cacheDir = featureCacheDir(where.env);
  return async (source, pinned) => {
    if (source.type === 'tarball') {
      const fetched = await fetchTarballFeature(source.url, cacheDir, { pinned, authorization: githubAuthorization(source.url, where.resolveSecret), signal: where.signal });
      return { dir: fetched.dir, digest: fetched.digest };
    }
    const credentials = await registryCredentialsFor(source.registry, where);
    const fetched = await fetchOciFeature({ registry: source.registry, repository: source.repository, reference: pinned ?? source.tag }, cacheDir, credentials, where.signal);
    return { dir: fetched.dir, digest: fetched.manifestDigest };
  };
}

function githubAuthorization(url: string, resolveSecret: ResolveSecret): string | undefined {
  if (!/^https:\/\/(api\.)?github\.com\//.test(url)) return undefined;
  let token = '';
  try {
    token = resolveSecret('GITHUB_TOKEN');
  } catch {
    // Not set: a public release asset needs none.
  }
  return token ? `Bearer ${token}` : undefined;
}
