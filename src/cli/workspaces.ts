import type { Command } from 'commander';
import { configError } from '../errors';
import type { WorkerActivities } from '../activities';
import type { VmHandle } from '../activities/types';
import type { DeployPlan } from '../spec/plan';
import type { Devcontainer } from '../spec/devcontainer';
import { resolveSpec } from '../spec/resolve';
import type { CliDeps } from './deps';
import { printerOf } from './output';
import { recordDeploysDoneElsewhere } from './records';

export interface Workspaces {
  plan: DeployPlan;
  /** devcontainer.json as read on this machine: how a person works in the primary service. */
  devcontainer: Devcontainer;
  activities: WorkerActivities;
  /** Every VM of this deployment, as the provider reports it now. */
  vms(): Promise<VmHandle[]>;
  /** The named VMs (all of them when none is named); an unknown name is a usage error. */
  select(names: string[]): Promise<VmHandle[]>;
}

/**
 * Read-only lifecycle commands (list, status, ssh, logs) ask the provider and the VMs directly: there
 * is nothing to make durable about a look. Changes (deploy, stop, start, remove) go through Temporal.
 * What deploys that completed elsewhere reached is recorded first (src/cli/records.ts).
 */
export async function withWorkspaces<T>(projectDir: string, body: (workspaces: Workspaces) => Promise<T>, caller: { deps: CliDeps; command: Command }): Promise<T> {
  const { plan, devcontainer } = await resolveSpec({ projectDir });
  await recordDeploysDoneElsewhere(caller.deps, printerOf(caller.command, caller.deps).note, plan);
  // Loaded on use: every command's module imports this file, and the activities are heavy to load.
  const activities = (await import('../activities')).createActivities();
  const vms = async () => (await activities.listVms({ plan })).sort((a, b) => a.index - b.index || a.name.localeCompare(b.name));
  const select = async (names: string[]) => {
    const all = await vms();
    if (names.length === 0) return all;
    return names.map((name) => {
      const vm = all.find((v) => v.name === name);
      if (!vm) {
        throw configError(`no VM named ${name} in deployment ${plan.service}`, {
          description: all.length ? `Known VMs: ${all.map((v) => v.name).join(', ')}.` : 'Nothing is deployed yet: run `kamal-dev deploy`.',
        });
      }
      return vm;
    });
  };
  try {
    return await body({ plan, devcontainer, activities, vms, select });
  } finally {
    await activities.close();
  }
}
