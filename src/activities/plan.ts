import { requireLastBuild } from '../images/last-build';
import type { DeployPlan } from '../spec/plan';
import { requiredSecretNames, sourceSecretNames } from '../spec/resolve-parts';
import { resolvePlan } from '../spec/resolve';
import { knownHostsFile, recordedHostKeys } from '../ssh/knownHosts';
import { classified } from './failures';
import type { DeployInput } from './types';

/**
 * planDeploy: the plan from the project's files, on the machine that holds them. Every secret this
 * machine will need is resolved once here (values stay on the worker), so a missing one stops the
 * deploy before anything is built or provisioned; so are the VMs' secrets when their steps run here
 * too (local VMs). Elsewhere the worker that takes a VM checks them in provisionVm, before it makes anything.
 */
export function createPlanActivity(secretsFor: (plan: DeployPlan) => (name: string) => string) {
  return (input: DeployInput): Promise<DeployPlan> =>
    classified('ConfigInvalid', async () => {
      // --skip-build deploys what was built last (or the tag named), never a tag nobody built.
      const tag = input.skipBuild ? requireLastBuild(input.projectDir, input.tag).tag : input.tag;
      const plan = await resolvePlan({ projectDir: input.projectDir, count: input.count, tag, devcontainerPath: input.from, writeLockfile: !input.skipBuild });
      const buildSecrets = new Set(plan.builds.flatMap((b) => b.secrets));
      const resolve = secretsFor(plan);
      const names = plan.provider.type === 'docker' ? requiredSecretNames(plan) : sourceSecretNames(plan);
      for (const name of names) {
        if (!(input.skipBuild && buildSecrets.has(name) && !plan.stack.secrets.includes(name))) resolve(name);
      }
      const workspace = plan.stack.workspace;
      // A redeploy's VMs were reached before: workers elsewhere pin the keys this machine recorded.
      const pinned = { ...plan, ssh: { ...plan.ssh, hostKeys: recordedHostKeys(knownHostsFile(plan)) } };
      return input.syncWorkspace && workspace ? { ...pinned, stack: { ...plan.stack, workspace: { ...workspace, sync: true } } } : pinned;
    });
}
