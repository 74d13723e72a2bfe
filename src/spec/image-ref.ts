import { configError } from '../errors';

/**
 * Image references: `{registry}/{namespace}/{service}-dev:{tag}` for the primary image and
 * `{registry}/{namespace}/{service}-{composeService}-dev:{tag}` for every other service that has a
 * `build:` (one repository per image, so each can be pulled and cleaned up on its own).
 * With `image.name` in config the primary repository is `{registry}/{image.name}` and the others
 * `{registry}/{image.name}-{composeService}`.
 */
export const LOCAL_REGISTRY = 'localhost:5555';
export const LOCAL_NAMESPACE = 'kamal-dev';

const DOCKER_HUB_ALIASES = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'hub.docker.com', 'registry.hub.docker.com'];

/** `https://Hub.Docker.com/` -> `docker.io`; `GHCR.io` -> `ghcr.io`; keeps a port. */
export function normalizeRegistryServer(server: string): string {
  const host = server
    .trim()
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  return DOCKER_HUB_ALIASES.includes(host) ? 'docker.io' : host;
}

// The OCI distribution reference grammar (distribution/reference), lowercase repositories only.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_PART = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_PART}(?:\\.${DOMAIN_PART})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${COMPONENT}(?:/${COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);
const TAG_ONLY = new RegExp(`^${TAG}$`);

export function isValidReference(ref: string): boolean {
  return ref.length <= 255 && REFERENCE.test(ref);
}

export function isValidTag(tag: string): boolean {
  return TAG_ONLY.test(tag);
}

export interface RefWhere {
  file?: string;
  key?: string;
}

export function assertValidReference(ref: string, where: RefWhere): string {
  if (!isValidReference(ref)) {
    throw configError(`"${ref}" is not a valid image reference`, {
      ...where,
      description: 'Image names are lowercase letters, digits and . _ - separated by /, with an optional :tag (e.g. ghcr.io/me/app-dev:abc1234).',
    });
  }
  return ref;
}

export function assertValidTag(tag: string, where: RefWhere): string {
  if (!isValidTag(tag)) {
    throw configError(`"${tag}" is not a valid image tag`, {
      ...where,
      description: 'A tag is up to 128 letters, digits, _ . and -, not starting with . or -.',
    });
  }
  return tag;
}

/** Lowercases and squeezes a name into one valid repository path component. */
export function repositoryComponent(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
    .replace(/[._-]{2,}/g, '-');
}

export interface RepositoryInput {
  server: string;
  namespace: string;
  service: string;
  /** config image.name: replaces `{namespace}/{service}-dev`. */
  imageName?: string;
}

/** The repository (no tag) of the image built for `composeService`; `primary` marks the devcontainer's own service. */
export function imageRepository(input: RepositoryInput, composeService: string, primary: boolean): string {
  const suffix = primary ? '' : `-${repositoryComponent(composeService)}`;
  const path = input.imageName
    ? `${input.imageName.toLowerCase()}${suffix}`
    : `${input.namespace.toLowerCase()}/${repositoryComponent(input.service)}${suffix}-dev`;
  return `${normalizeRegistryServer(input.server)}/${path}`;
}

export function imageRef(repository: string, tag: string, where: RefWhere = {}): string {
  return assertValidReference(`${repository}:${tag}`, where);
}
