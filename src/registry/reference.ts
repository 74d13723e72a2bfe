/** Where an image reference lives in a registry's HTTP API. */
export interface RegistryLocation {
  /** Base URL of the v2 API: http for localhost registries (Docker trusts them without TLS), https otherwise. */
  baseUrl: string;
  repository: string;
  tag: string;
}

const DOCKER_HUB_API = 'registry-1.docker.io';

/** Splits `host[:port]/path/name:tag` (or a Docker Hub `user/name:tag`) into API location parts. */
export function registryLocation(image: string): RegistryLocation {
  const slash = image.indexOf('/');
  const first = slash === -1 ? '' : image.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const host = hasHost ? first : 'docker.io';
  let remainder = hasHost ? image.slice(slash + 1) : image;
  const digestAt = remainder.indexOf('@');
  if (digestAt !== -1) remainder = remainder.slice(0, digestAt);
  const colon = remainder.lastIndexOf(':');
  const tag = colon > remainder.lastIndexOf('/') && colon !== -1 ? remainder.slice(colon + 1) : 'latest';
  let repository = colon > remainder.lastIndexOf('/') && colon !== -1 ? remainder.slice(0, colon) : remainder;
  if (host === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  return { baseUrl: apiBase(host), repository, tag };
}

/** The v2 API's base URL of a registry host. */
export function apiBase(host: string): string {
  if (host === 'docker.io' || host === 'index.docker.io') return `https://${DOCKER_HUB_API}`;
  const [name, port] = host.split(':');
  if (name === 'localhost' || name === '127.0.0.1') {
    // Node may resolve localhost to ::1 while the registry listens on 127.0.0.1 only.
    return `http://127.0.0.1${port ? `:${port}` : ''}`;
  }
  return `https://${host}`;
}
