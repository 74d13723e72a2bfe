import { configError } from '../errors';
import type { RawDevConfig } from './config-schema';
import { LOCAL_NAMESPACE, LOCAL_REGISTRY, normalizeRegistryServer } from './image-ref';

/** The registry part of config/dev.yml; secret NAMES only. */
export interface RegistryConfig {
  server: string;
  /** Absent for a remote registry when image.name carries it; resolvePlan checks it is known. */
  namespace?: string;
  local: boolean;
  usernameSecret?: string;
  passwordSecret?: string;
}

const DEFAULT_SECRET_NAMES: Record<string, [string, string]> = {
  'ghcr.io': ['GITHUB_USER', 'GITHUB_TOKEN'],
  'docker.io': ['DOCKER_USERNAME', 'DOCKER_PASSWORD'],
};
const GENERIC_SECRET_NAMES: [string, string] = ['KAMAL_REGISTRY_USERNAME', 'KAMAL_REGISTRY_PASSWORD'];

/**
 * No `registry:` section: kamal-dev's local registry on localhost:5555 (no credentials). A section
 * without `server:` means ghcr.io. Credentials are secret names: `username_env`/`password_env`
 * (canonical), Kamal's `username`/`password` (string or one-element list), or per-server defaults
 * (GITHUB_USER/GITHUB_TOKEN for ghcr.io, DOCKER_USERNAME/DOCKER_PASSWORD for Docker Hub,
 * KAMAL_REGISTRY_USERNAME/KAMAL_REGISTRY_PASSWORD elsewhere).
 */
export function registryConfig(raw: RawDevConfig, file: string): RegistryConfig {
  const section = raw.registry;
  if (!section) return { server: LOCAL_REGISTRY, namespace: LOCAL_NAMESPACE, local: true };
  const server = normalizeRegistryServer(section.server ?? 'ghcr.io');
  const username = pick(section.username_env, section.username, 'username', file);
  const password = pick(section.password_env, section.password, 'password', file);
  const namespace = section.namespace?.toLowerCase();
  if (server === LOCAL_REGISTRY && !username && !password) return { server, namespace: namespace ?? LOCAL_NAMESPACE, local: true };
  const [defaultUser, defaultPassword] = DEFAULT_SECRET_NAMES[server] ?? GENERIC_SECRET_NAMES;
  return { server, namespace, local: false, usernameSecret: username ?? defaultUser, passwordSecret: password ?? defaultPassword };
}

function pick(canonical: string | undefined, kamal: string | [string] | undefined, name: string, file: string): string | undefined {
  if (canonical && kamal) {
    throw configError(`give either ${name}_env or ${name}, not both`, { file, key: `registry.${name}`, description: `Both name the secret that holds the registry ${name}; ${name}_env is the canonical form.` });
  }
  return canonical ?? (Array.isArray(kamal) ? kamal[0] : kamal);
}

/**
 * The {user} part of image references: registry.namespace, else the owner in image.name
 * (`owner/name`), else the registry user name (the story's `{registry}/{user}/{service}-dev`).
 * Lower-cased, as image references must be.
 */
export function registryNamespace(registry: RegistryConfig, imageName: string | undefined, userName: string | undefined): string | undefined {
  if (registry.namespace) return registry.namespace;
  if (imageName?.includes('/')) return imageName.split('/')[0].toLowerCase();
  return userName?.trim().toLowerCase() || undefined;
}
