import type { VmHandle } from '../domain/vm';
import { KamalDevError } from '../errors';
import type { DeployPlan } from '../spec/plan';
import { isKeyRefused } from '../ssh/pool';
import { currentActivity } from './activityContext';
import { classified } from './failures';
import type { DeployActivities } from './types';
import type { VmContext } from './vmContext';

/**
 * How long after waitForSsh first starts (right after provisionVm) a refused key is tried again: a
 * new cloud server runs sshd before cloud-init has installed the key (UpCloud: up to a minute or two).
 */
export const NEW_VM_KEY_GRACE_MS = 180_000;

export function waitForSshActivity(ctx: VmContext): DeployActivities['waitForSsh'] {
  return ({ plan, vm }) =>
    classified('SshAuthFailed', async () => {
      const grace = keyGraceFor(plan, vm) ? NEW_VM_KEY_GRACE_MS : 0;
      const keyRefusalsUntil = (currentActivity()?.info.scheduledTimestampMs ?? Date.now()) + grace;
      try {
        const session = await ctx.session(plan, vm, keyRefusalsUntil);
        await session.run(['true']);
        return { hostKey: session.hostKey };
      } catch (error) {
        if (isKeyRefused(error) && vm.created === false) throw foundVmRefusedKey(plan, vm, error);
        // A VM that went down (a local VM whose init failed) would refuse connections until every retry is spent.
        const now = await ctx.findVm(plan, vm.name).catch(() => undefined);
        if (now && now.status === 'stopped') {
          throw new KamalDevError('provider', `VM ${vm.name} stopped while kamal-dev was waiting for its sshd`, {
            type: 'ProviderError',
            description: plan.provider.type === 'docker' ? `Its output says why: docker logs ${vm.name}` : undefined,
          });
        }
        // Still in the grace of a new VM: the next attempt tries again; after it, a refused key is final.
        if (isKeyRefused(error) && Date.now() < keyRefusalsUntil) {
          throw new KamalDevError('ssh', error.message, { type: error.type, retry: 'transient', description: error.description, cause: error });
        }
        throw error;
      }
    });
}

/**
 * Only a VM this run made can still be waiting for cloud-init to install the key. A VM that was
 * there (a redeploy found it) and an existing host (provider ssh) have their keys already. A handle
 * from a run that predates `created` keeps the grace it had.
 */
export function keyGraceFor(plan: DeployPlan, vm: Pick<VmHandle, 'created'>): boolean {
  return plan.provider.type !== 'ssh' && vm.created !== false;
}

function foundVmRefusedKey(plan: DeployPlan, vm: VmHandle, refusal: KamalDevError): KamalDevError {
  return new KamalDevError('ssh', `${vm.name} was already there (this deploy found it, it did not create it) and ${refusal.message}`, {
    type: refusal.type,
    retry: 'final',
    description:
      `A VM that was there has its keys already, so kamal-dev does not wait for them. It was made with another key ` +
      `(another checkout, or ssh.key_path changed): authorise ${plan.ssh.keyPath}.pub for ${vm.ssh.user} on it ` +
      `(provider docker: kamal-dev adopt ${vm.name} does that).`,
    cause: refusal,
  });
}
