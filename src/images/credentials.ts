import { dockerConfigCredentials } from '../registry/docker-config';
import type { RegistryCredentials } from '../registry/manifest';
import type { DeployPlan, ImageBuild, RegistryPlan } from '../spec/plan';
import { ImageError } from './errors';

export type ResolveSecret = (name: string) => string;

/** The registry's username and password, or a clear error naming the missing variable; none for the local registry. */
export function registryCredentials(plan: DeployPlan, resolveSecret: ResolveSecret): RegistryCredentials | undefined {
  const { registry } = plan;
  if (registry.local) return undefined;
  if (!registry.usernameSecret || !registry.passwordSecret) {
    throw new ImageError('RegistryCredentialsMissing', 'config', `registry ${registry.server} has no username or password configured`, {
      key: 'registry',
      description: 'Name the variables in registry.username and registry.password, and set them in the secrets file or the environment.',
    });
  }
  return configuredCredentials(registry, plan.secretsFile, resolveSecret);
}

/**
 * The credentials for any registry host, found as images' are: config/dev.yml's registry by its
 * secret names (from .kamal/secrets or the environment), every other host from the user's Docker
 * config (`docker login`, credHelpers, credsStore), as `docker` finds them when it pulls a base image.
 */
export async function registryCredentialsFor(
  host: string,
  where: { registry: RegistryPlan; secretsFile: string; resolveSecret: ResolveSecret; env: NodeJS.ProcessEnv; signal?: AbortSignal },
): Promise<RegistryCredentials | undefined> {
  const { registry } = where;
  if (host === registry.server && !registry.local && registry.usernameSecret && registry.passwordSecret) return configuredCredentials(registry, where.secretsFile, where.resolveSecret);
  return dockerConfigCredentials(host, where.env, where.signal);
}

function configuredCredentials(registry: RegistryPlan, secretsFile: string, resolveSecret: ResolveSecret): RegistryCredentials {
  return {
    username: secretFor(secretsFile, registry.usernameSecret!, `the username for registry ${registry.server}`, resolveSecret, 'RegistryCredentialsMissing'),
    password: secretFor(secretsFile, registry.passwordSecret!, `the password for registry ${registry.server}`, resolveSecret, 'RegistryCredentialsMissing'),
  };
}

/** Every build secret's value, resolved before the first build starts. */
export function buildSecretValues(plan: DeployPlan, build: ImageBuild, resolveSecret: ResolveSecret): Record<string, string> {
  return Object.fromEntries(
    build.secrets.map((name) => [name, secretFor(plan.secretsFile, name, `build secret ${name} of service ${build.service}`, resolveSecret, 'BuildSecretMissing')]),
  );
}

function secretFor(secretsFile: string, name: string, what: string, resolveSecret: ResolveSecret, type: 'RegistryCredentialsMissing' | 'BuildSecretMissing'): string {
  let value: string;
  try {
    value = resolveSecret(name);
  } catch (error) {
    throw missing(secretsFile, name, what, type, error);
  }
  if (value === '') throw missing(secretsFile, name, what, type);
  return value;
}

function missing(secretsFile: string, name: string, what: string, type: 'RegistryCredentialsMissing' | 'BuildSecretMissing', cause?: unknown): ImageError {
  return new ImageError(type, 'config', `${name} is not set (${what})`, {
    file: secretsFile,
    description: `Add ${name}=... to ${secretsFile}, or export ${name} where the kamal-dev worker runs (config/dev.yml names it, so it is a secret either way).`,
    cause,
  });
}
