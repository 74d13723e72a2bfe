import type { RegistryCredentials } from '../registry/manifest';
import type { DeployPlan, ImageBuild } from '../spec/plan';
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
  return {
    username: secretFor(plan, registry.usernameSecret, `the username for registry ${registry.server}`, resolveSecret, 'RegistryCredentialsMissing'),
    password: secretFor(plan, registry.passwordSecret, `the password for registry ${registry.server}`, resolveSecret, 'RegistryCredentialsMissing'),
  };
}

/** Every build secret's value, resolved before the first build starts. */
export function buildSecretValues(plan: DeployPlan, build: ImageBuild, resolveSecret: ResolveSecret): Record<string, string> {
  return Object.fromEntries(
    build.secrets.map((name) => [name, secretFor(plan, name, `build secret ${name} of service ${build.service}`, resolveSecret, 'BuildSecretMissing')]),
  );
}

function secretFor(plan: DeployPlan, name: string, what: string, resolveSecret: ResolveSecret, type: 'RegistryCredentialsMissing' | 'BuildSecretMissing'): string {
  let value: string;
  try {
    value = resolveSecret(name);
  } catch (error) {
    throw missing(plan, name, what, type, error);
  }
  if (value === '') throw missing(plan, name, what, type);
  return value;
}

function missing(plan: DeployPlan, name: string, what: string, type: 'RegistryCredentialsMissing' | 'BuildSecretMissing', cause?: unknown): ImageError {
  return new ImageError(type, 'config', `${name} is not set (${what})`, {
    file: plan.secretsFile,
    description: `Add ${name}=... to ${plan.secretsFile}, or export ${name} where the kamal-dev worker runs (config/dev.yml names it, so it is a secret either way).`,
    cause,
  });
}
