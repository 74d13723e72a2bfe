import { configError } from '../errors';
import type { DevConfig } from './config';
import type { DeployPlan } from './plan';

/** Names that look like credentials (GITHUB_TOKEN, DB_PASSWORD, API_SECRET, STRIPE_KEY): secret when set in the environment. */
export const CREDENTIAL_NAME = /(^|_)(TOKEN|PASSWORD|SECRET|KEY)$/;

/**
 * Every name that holds a secret value: the keys of .kamal/secrets, config/dev.yml `secrets:`, the
 * names it gives for build secrets and credentials, and every variable of the environment whose name
 * looks like a credential. The devcontainer.json substitution and the compose normaliser see
 * placeholders for all of them, so no value of theirs gets into the plan.
 */
export function secretNamesOf(config: DevConfig, secretsFileNames: string[], env: NodeJS.ProcessEnv): string[] {
  const fromEnv = Object.keys(env).filter((name) => CREDENTIAL_NAME.test(name));
  const names = [...secretsFileNames, ...config.secrets, ...config.build.secrets, ...fromEnv];
  for (const name of [config.registry.usernameSecret, config.registry.passwordSecret, config.temporal.apiKeySecret]) if (name) names.push(name);
  if (config.provider.type === 'upcloud') names.push(config.provider.usernameSecret, config.provider.passwordSecret);
  return [...new Set(names)];
}

/** The secret names a deploy of this plan resolves on the worker (check them before any work starts). */
export function requiredSecretNames(plan: DeployPlan): string[] {
  return [...new Set([...sourceSecretNames(plan), ...vmSecretNames(plan)])];
}

/** What the source machine resolves itself: build secrets and, to push, the registry credentials. */
export function sourceSecretNames(plan: DeployPlan): string[] {
  return [...new Set([...plan.builds.flatMap((b) => b.secrets), ...registrySecretNames(plan)])];
}

/** What the worker that runs a VM's steps resolves: the stack's and lifecycle's secrets, the registry's (to pull), the provider's. */
export function vmSecretNames(plan: DeployPlan): string[] {
  const names = [...plan.stack.secrets, ...(plan.stack.lifecycle?.secrets ?? []), ...registrySecretNames(plan)];
  if (plan.provider.type === 'upcloud') names.push(plan.provider.usernameSecret, plan.provider.passwordSecret);
  return [...new Set(names)];
}

function registrySecretNames(plan: DeployPlan): string[] {
  return [plan.registry.usernameSecret, plan.registry.passwordSecret].filter((n): n is string => n !== undefined);
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** VM names from `naming` ({service}, {index} from 1): valid host names, all different. */
export function vmNames(naming: string, service: string, count: number, file: string): { name: string; index: number }[] {
  const vms = Array.from({ length: count }, (_, i) => ({ name: naming.split('{service}').join(service).split('{index}').join(String(i + 1)), index: i + 1 }));
  const bad = vms.find((vm) => !HOSTNAME.test(vm.name));
  if (bad) {
    throw configError(`gives the VM name "${bad.name}", which is not a valid host name`, {
      file,
      key: 'naming',
      description: 'VM names are lowercase letters, digits and dashes (at most 63), e.g. naming: "{service}-{index}".',
    });
  }
  return vms;
}
