import { setTimeout as delay } from 'node:timers/promises';
import { ImageError } from '../images/errors';
import { registryLocation } from './reference';

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** Every manifest kind a push can produce: Docker v2 and OCI, single-platform and index. */
export const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/**
 * Proves a push landed: asks the registry for the tag's manifest and compares its digest with the
 * one `docker push` reported. Follows a Bearer challenge (token endpoint, basic auth) or answers a
 * Basic challenge directly. Resolves with the registry's digest.
 */
export async function verifyManifest(image: string, expectedDigest: string, credentials?: RegistryCredentials, signal?: AbortSignal): Promise<string> {
  const response = await headManifest(image, credentials, signal);
  if (response.status === 401 || response.status === 403) {
    throw new ImageError('RegistryAuthFailed', 'registry', `the registry refused to show ${image} (HTTP ${response.status})`, {
      retry: 'bad-input',
      description: 'Check the registry username and password (or token) and that they may read this repository.',
    });
  }
  if (response.status >= 500) {
    throw new ImageError('RegistryUnavailable', 'registry', `the registry answered HTTP ${response.status} for ${image}`, { retry: 'transient' });
  }
  if (response.status === 404) {
    throw new ImageError('PushNotVerified', 'registry', `${image} is not in the registry after the push (manifest unknown)`, { retry: 'transient' });
  }
  const digest = response.headers.get('docker-content-digest');
  if (response.status !== 200 || !digest) {
    throw new ImageError('PushNotVerified', 'registry', `the registry answered HTTP ${response.status} without a digest for ${image}`, { retry: 'transient' });
  }
  if (digest !== expectedDigest) {
    throw new ImageError('PushNotVerified', 'registry', `${image} in the registry is ${digest}, not the pushed ${expectedDigest}`, {
      description: 'Something else pushed this tag at the same time. Push again, or use a tag of its own.',
      retry: 'transient',
    });
  }
  return digest;
}

/** The registry's answer to a HEAD of an image's manifest (its digest in `docker-content-digest`). */
export async function headManifest(image: string, credentials?: RegistryCredentials, signal?: AbortSignal): Promise<Response> {
  const location = registryLocation(image);
  const url = `${location.baseUrl}/v2/${location.repository}/manifests/${location.tag}`;
  const { response } = await authorizedRequest(url, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT }, signal }, { repository: location.repository, credentials, image });
  return response;
}

/**
 * A v2 API request that answers the registry's 401 challenge (Bearer token or Basic) once and asks
 * again. `authorization` from an earlier answer is sent at once; the one used is returned, for the
 * next request to the same repository.
 */
export async function authorizedRequest(
  url: string,
  init: RequestInit & { headers: Record<string, string> },
  auth: { repository: string; credentials?: RegistryCredentials; image: string; authorization?: string },
): Promise<{ response: Response; authorization?: string }> {
  const send = (authorization?: string) => request(url, { ...init, headers: { ...init.headers, ...(authorization ? { Authorization: authorization } : {}) } }, auth.image);
  const response = await send(auth.authorization);
  if (response.status !== 401 || auth.authorization) return { response, authorization: auth.authorization };
  const authorization = await answerChallenge(response.headers.get('www-authenticate') ?? '', auth.repository, auth.credentials, auth.image, init.signal ?? undefined);
  return { response: await send(authorization), authorization };
}

/** `Bearer realm="https://auth/token",service="registry",scope="..."` -> the Authorization header to send. */
async function answerChallenge(
  header: string,
  repository: string,
  credentials: RegistryCredentials | undefined,
  image: string,
  signal?: AbortSignal,
): Promise<string> {
  const basic = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
  const scheme = header.split(' ')[0].toLowerCase();
  if (scheme === 'basic' && basic) return basic;
  if (scheme !== 'bearer') {
    throw new ImageError('RegistryAuthFailed', 'registry', `the registry asks for credentials to read ${image} and none are configured`, { retry: 'bad-input' });
  }
  const params = parseChallenge(header.slice(header.indexOf(' ') + 1));
  if (!params.realm) throw new ImageError('PushNotVerified', 'registry', `the registry's Bearer challenge for ${image} names no token realm`);
  const tokenUrl = new URL(params.realm);
  if (params.service) tokenUrl.searchParams.set('service', params.service);
  tokenUrl.searchParams.set('scope', params.scope ?? `repository:${repository}:pull`);
  const response = await request(tokenUrl.toString(), { headers: basic ? { Authorization: basic } : {}, signal }, image);
  if (response.status === 401 || response.status === 403) {
    throw new ImageError('RegistryAuthFailed', 'registry', `the registry's token service refused the credentials for ${image} (HTTP ${response.status})`, { retry: 'bad-input' });
  }
  if (!response.ok) {
    throw new ImageError('RegistryUnavailable', 'registry', `the registry's token service answered HTTP ${response.status}`, { retry: 'transient' });
  }
  const body = (await response.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (!token) throw new ImageError('PushNotVerified', 'registry', `the registry's token service returned no token for ${image}`);
  return `Bearer ${token}`;
}

export function parseChallenge(params: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of params.matchAll(/(\w+)="([^"]*)"/g)) out[match[1]] = match[2];
  return out;
}

/**
 * A registry that is down or answers 5xx is often back in a moment: a few tries with backoff here,
 * then the caller's failure says why (transient, so an activity is retried by Temporal as well).
 */
const ATTEMPTS = 3;
const FIRST_DELAY_MS = 500;

async function request(url: string, init: RequestInit, image: string): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const last = attempt >= ATTEMPTS;
    try {
      const response = await fetch(url, init);
      if (response.status < 500 || last) return response;
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      if (last) {
        const reason = ((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message) || 'network error';
        throw new ImageError('RegistryUnavailable', 'registry', `could not reach the registry for ${image} (${reason})`, { retry: 'transient', cause: error });
      }
    }
    await delay(FIRST_DELAY_MS * 2 ** (attempt - 1), undefined, { signal: init.signal ?? undefined });
  }
}
