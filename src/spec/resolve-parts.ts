import { configError } from '../errors';
import type { DevConfig } from './config';
import type { DeployPlan } from './plan';

/**
 * Every name that holds a secret value: the keys of .kamal/secrets and the names config/dev.yml
 * gives for build secrets and credentials. The compose normaliser sees placeholders for all of them.
 */
export function secretNamesOf(config: DevConfig, secretsFileNames: string[]): string[] {
  const names = [...secretsFileNames, ...config.build.secrets];
  for (const name of [config.registry.usernameSecret, config.registry.passwordSecret, config.temporal.apiKeySecret]) if (name) names.push(name);
  if (config.provider.type === 'upcloud') names.push(config.provider.usernameSecret, config.provider.passwordSecret);
  return [...new Set(names)];
}

/** The secret names a deploy of this plan resolves on the worker (check them before any work starts). */
export function requiredSecretNames(plan: DeployPlan): string[] {
  const names = [...plan.builds.flatMap((b) => b.secrets), ...plan.stack.secrets];
  if (plan.registry.usernameSecret) names.push(plan.registry.usernameSecret);
  if (plan.registry.passwordSecret) names.push(plan.registry.passwordSecret);
  if (plan.provider.type === 'upcloud') names.push(plan.provider.usernameSecret, plan.provider.passwordSecret);
  return [...new Set(names)];
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
