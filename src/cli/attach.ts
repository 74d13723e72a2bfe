import { randomUUID } from 'node:crypto';
import { posix } from 'node:path';
import type { VmHandle } from '../domain/vm';
import { recordCommandOutcomes } from '../remote/commandFailures';
import { LifecycleCommandError, runLifecycleSteps } from '../remote/lifecycleSteps';
import { stackRef } from '../remote/stackDir';
import { knownHostsFile } from '../ssh/knownHosts';
import { composeContainerId } from '../docker/compose';
import { KamalDevError } from '../errors';
import { lifecycleGroups } from '../spec/lifecycle';
import type { DeployPlan } from '../spec/plan';
import { lazySecretResolver } from '../spec/secrets';
import { sshKeyPath } from '../ssh/keys';
import { SshPool } from '../ssh/pool';

/**
 * devcontainer.json's postAttachCommand, run each time a person's interactive `kamal-dev ssh`
 * attaches to the devcontainer, before the shell (as devcontainer tools run it when an editor
 * attaches): in the primary service's container, as remoteUser, in workspaceFolder, with remoteEnv.
 * Its secrets travel as every lifecycle command's do: in a mode-600 env file on the VM, there only
 * while the command runs (one file per attach, so two people attaching at once keep theirs apart).
 */
export async function runPostAttach(plan: DeployPlan, vm: VmHandle, streams: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<void> {
  const lifecycle = plan.stack.lifecycle;
  const steps = lifecycle?.postAttach ?? [];
  if (!lifecycle || steps.length === 0) return;
  const resolve = lazySecretResolver(plan.secretsFile);
  // The stack's secrets too: the command's output may show them, and they are redacted from it.
  const names = [...new Set([...plan.stack.secrets, ...(lifecycle.secrets ?? [])])];
  const values = Object.fromEntries(names.map((name) => [name, resolve(name)]));
  const pool = new SshPool({ privateKeyPath: sshKeyPath(plan), knownHostsFile: knownHostsFile(plan) });
  try {
    const session = await pool.session(vm.ssh);
    const stack = stackRef(plan);
    const containerId = (await session.run(composeContainerId(stack, plan.stack.primaryService), { root: true })).stdout.trim();
    if (!containerId) throw new KamalDevError('compose', `${vm.name}: service ${plan.stack.primaryService} has no container to attach to`);
    const secrets = { values, file: posix.join(stack.dir, `attach-${randomUUID()}.env`) };
    const onLine = (line: string, stream: 'stdout' | 'stderr') => streams[stream].write(`${line}\n`);
    try {
      for (const group of lifecycleGroups(steps)) {
        await runLifecycleSteps(session, lifecycle, containerId, secrets, { name: 'postAttachCommand', steps: group, vmName: vm.name, onLine });
      }
    } catch (error) {
      // The shell opens anyway: `status` keeps showing the failure until an attach succeeds.
      if (error instanceof LifecycleCommandError) await recordCommandOutcomes(session, stack.dir, [], [error.failed]);
      throw error;
    }
    await recordCommandOutcomes(session, stack.dir, ['postAttachCommand'], []);
  } finally {
    await pool.closeAll();
  }
}
