import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, unpackFeature } from './feature-archive';
import { authorizedRequest, type RegistryCredentials } from './manifest';
import { apiBase } from './reference';

/** The config media type of a published Dev Container Feature (containers.dev features-distribution). */
export const FEATURE_CONFIG_MEDIA_TYPE = 'application/vnd.devcontainers';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

export interface OciFeatureRef {
  registry: string;
  repository: string;
  /** A tag, or the manifest digest when the reference (or the lock file) pins one. */
  reference: string;
}

export interface FetchedOciFeature {
  /** The folder the feature's tgz layer was unpacked into. */
  dir: string;
  /** sha256 of the manifest: the lock file's `integrity`, and `resolved` after the `@`. */
  manifestDigest: string;
}

/**
 * Fetches a feature as the reference CLI does: the manifest of the tag (or digest), which must be a
 * devcontainers artifact, then its first layer (a tar of the feature's folder). Both are checked
 * against their digests. Unpacked folders are kept under `cacheDir` by manifest digest, so an
 * unchanged feature is not downloaded again. Throws plain errors saying what went wrong.
 */
export async function fetchOciFeature(ref: OciFeatureRef, cacheDir: string, credentials?: RegistryCredentials, signal?: AbortSignal): Promise<FetchedOciFeature> {
  const name = `${ref.registry}/${ref.repository}`;
  const get = registryGet(ref, credentials, signal);
  const manifestResponse = await get(`manifests/${ref.reference}`, OCI_MANIFEST);
  const body = Buffer.from(await manifestResponse.arrayBuffer());
  const manifestDigest = sha256(body);
  if (ref.reference.startsWith('sha256:') && manifestDigest !== ref.reference) {
    throw new Error(`the manifest of ${name} is ${manifestDigest}, not the pinned ${ref.reference}`);
  }
  const manifest = JSON.parse(body.toString()) as { config?: { mediaType?: string }; layers?: { digest?: string }[] };
  if (manifest.config?.mediaType !== FEATURE_CONFIG_MEDIA_TYPE) {
    throw new Error(`${name}:${ref.reference} is not a Dev Container Feature (its config media type is ${manifest.config?.mediaType ?? 'missing'}, not ${FEATURE_CONFIG_MEDIA_TYPE})`);
  }
  const dir = join(cacheDir, manifestDigest.replace(':', '-'));
  if (existsSync(join(dir, 'devcontainer-feature.json'))) return { dir, manifestDigest };
  const layerDigest = manifest.layers?.[0]?.digest;
  if (!layerDigest) throw new Error(`the manifest of ${name} has no layer`);
  const layer = Buffer.from(await (await get(`blobs/${layerDigest}`, '*/*')).arrayBuffer());
  if (sha256(layer) !== layerDigest) throw new Error(`the layer of ${name} does not match its digest ${layerDigest}`);
  await unpackFeature(layer, dir, signal);
  return { dir, manifestDigest };
}

/** GET from the registry's v2 API, answering a Basic or Bearer challenge with the credentials. */
function registryGet(ref: OciFeatureRef, credentials: RegistryCredentials | undefined, signal?: AbortSignal) {
  const name = `${ref.registry}/${ref.repository}`;
  let authorization: string | undefined;
  return async (path: string, accept: string): Promise<Response> => {
    const url = `${apiBase(ref.registry)}/v2/${ref.repository}/${path}`;
    const answered = await authorizedRequest(url, { headers: { Accept: accept }, signal }, { repository: ref.repository, credentials, image: name, authorization });
    const response = answered.response;
    authorization = answered.authorization;
    if (response.status === 401 || response.status === 403) throw new Error(`the registry ${ref.registry} refused access to ${name} (HTTP ${response.status}): check its credentials`);
    if (response.status === 404) throw new Error(`${name}:${ref.reference} is not in the registry ${ref.registry} (HTTP 404)`);
    if (!response.ok) throw new Error(`the registry ${ref.registry} answered HTTP ${response.status} for ${name}`);
    return response;
  };
}
