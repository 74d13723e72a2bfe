import { configError } from '../errors';
import type { SpecWarning } from './devcontainer-keys';
import type { ProviderConfig } from './plan';

export interface HostRequirements {
  cpus?: number;
  memory?: string;
  storage?: string;
  [other: string]: unknown;
}

const UNITS: Record<string, number> = { kb: 1 / (1024 * 1024), mb: 1 / 1024, gb: 1, tb: 1024 };

/** "8gb", "512mb", "1.5tb" in GiB (no unit means bytes, as in the spec). */
export function sizeInGb(size: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(tb|gb|mb|kb)?$/i.exec(size.trim());
  if (!match) return NaN;
  return Number(match[1]) * (match[2] ? UNITS[match[2].toLowerCase()] : 1 / 1024 ** 3);
}

/** cpus and memory of an UpCloud plan name (`2xCPU-4GB`, `DEV-1xCPU-2GB`, `HIMEM-4xCPU-32GB`); undefined when the name says neither. */
export function upcloudPlanSize(plan: string): { cpus: number; memoryGb: number } | undefined {
  const match = /(\d+)xCPU-(\d+)GB/i.exec(plan);
  return match ? { cpus: Number(match[1]), memoryGb: Number(match[2]) } : undefined;
}

/**
 * `hostRequirements` against the VM size: for UpCloud the plan name gives cpus and memory, and a
 * smaller plan fails the plan; everything that cannot be checked (other providers, storage, gpu)
 * is a warning.
 */
export function checkHostRequirements(requirements: HostRequirements | undefined, provider: ProviderConfig, files: { devcontainer: string; config: string }): SpecWarning[] {
  if (!requirements) return [];
  const warn = (key: string, message: string): SpecWarning => ({ file: files.devcontainer, key: `hostRequirements.${key}`, message });
  const plan = provider.type === 'upcloud' ? provider.plan : undefined;
  const size = plan ? upcloudPlanSize(plan) : undefined;
  const warnings: SpecWarning[] = [];
  for (const [key, value] of Object.entries(requirements)) {
    if (value === undefined) continue;
    if (key === 'cpus' && size) {
      if (size.cpus < (value as number)) throw tooSmall(plan!, `${size.cpus} CPU(s)`, `${value} CPUs`, files, key);
    } else if (key === 'memory' && size) {
      if (size.memoryGb < sizeInGb(value as string)) throw tooSmall(plan!, `${size.memoryGb} GB of memory`, `${value}`, files, key);
    } else if (key === 'cpus' || key === 'memory' || key === 'storage') {
      warnings.push(warn(key, size ? `not checked: the UpCloud plan name does not say the ${key}` : `not checked: the ${provider.type} provider does not choose VM sizes`));
    } else {
      warnings.push(warn(key, 'not checked'));
    }
  }
  return warnings;
}

function tooSmall(plan: string, has: string, needs: string, files: { devcontainer: string; config: string }, key: string) {
  return configError(`the UpCloud plan ${plan} has ${has}, the devcontainer needs ${needs}`, {
    file: files.devcontainer,
    key: `hostRequirements.${key}`,
    description: `Choose a larger plan in ${files.config} (provider.plan), or lower hostRequirements.${key}.`,
  });
}
