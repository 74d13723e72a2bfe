import { bootstrapOn, startEngineIfInstalled } from '../remote/bootstrap';
import { classified } from './failures';
import { removeStackOn } from '../remote/stackControl';
import { createStackActivities } from './stack';
import type { VmHandle, VmRef } from '../domain/vm';
import type { DeployActivities, LifecycleActivities } from './types';
import { attemptDeadline, currentActivity, heartbeating } from './activityContext';
import { knownHostsFile } from '../ssh/knownHosts';
import { handleOf, VmActivityDeps, VmContext } from './vmContext';
import { KamalDevError } from '../errors';
import { LABELS } from '../providers/types';
import { publicHostPorts } from '../spec/compose-ports';
import { vmSecretNames } from '../spec/resolve-parts';
import type { DeployPlan } from '../spec/plan';
import { ensureSshKey } from '../ssh/keys';
import { forgetHost } from '../ssh/knownHosts';
import { isKeyRefused } from '../ssh/pool';
import { holdsProject, updateProjectState } from '../state/source';

/**
 * How long after waitForSsh first starts (right after provisionVm) a refused key is tried again: a
 * new cloud server runs sshd before cloud-init has installed the key (UpCloud: up to a minute or two).
 */
export const NEW_VM_KEY_GRACE_MS = 180_000;

export type VmActivities = Pick<
  DeployActivities,
  'provisionVm' | 'destroyVm' | 'waitForSsh' | 'bootstrapVm' | 'uploadStack' | 'seedWorkspace' | 'pullImages' | 'composeUp' | 'rollbackStack' | 'verifyStack' | 'runDevcontainerCommands'
> &
  LifecycleActivities & { close(): Promise<void> };

/** The VM steps of a deploy and of the lifecycle commands, sharing one SSH pool per worker. */
export function createVmActivities(deps: VmActivityDeps): VmActivities {
  const ctx = new VmContext(deps);

  async function findVm(plan: DeployPlan, name: string) {
    const vms = await ctx.provider(plan).list({ [LABELS.deployment]: plan.service });
    return vms.find((v) => v.name === name);
  }

  return {
    ...createStackActivities(ctx, findVm),

    provisionVm: ({ plan, vm, createdBy }) =>
      classified('ProviderError', () => heartbeating('provision', async () => {
        // This worker must hold every credential of the VM's steps: a missing one fails here, before a VM exists.
        for (const name of vmSecretNames(plan)) await deps.resolveSecret(name, plan);
        const { publicKey } = await ensureSshKey(plan);
        const provider = ctx.provider(plan);
        const labels = { [LABELS.service]: plan.service, [LABELS.deployment]: vm.deployment, [LABELS.index]: String(vm.index) };
        const openPorts = publicHostPorts((plan.stack.compose.services ?? {}) as Record<string, Record<string, unknown>>);
        const request = { name: vm.name, labels, createdBy, sshPublicKey: publicKey, openPorts, deadline: attemptDeadline() };
        const instance = await provider.provision(request, currentActivity()?.cancellationSignal);
        const handle = { ...handleOf(vm, instance, provider.type), created: instance.created };
        await record(plan, handle, 'provisioned');
        return handle;
      })),

    destroyVm: ({ plan, vm, createdBy }) =>
      classified('ProviderError', () => heartbeating('destroy', async () => {
        const provider = ctx.provider(plan);
        const existing = await findVm(plan, vm.name);
        const outcome = await provider.destroy(vm.name, { createdBy });
        if (outcome === 'kept') return { outcome };
        if (existing) {
          await ctx.pool(plan).drop(existing.ssh);
          // A machine that is gone takes its host key along; the next one on this address is a new host.
          if (provider.type !== 'ssh' && holdsProject(plan)) forgetHost(knownHostsFile(plan), existing.ssh.host, existing.ssh.port);
        }
        await updateProjectState(plan, (state) => void delete state.deployments[vm.name]);
        return { outcome };
      })),

    waitForSsh: ({ plan, vm }) =>
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
          const now = await findVm(plan, vm.name).catch(() => undefined);
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
      }),

    bootstrapVm: ({ plan, vm }) =>
      classified('UnsupportedOs', async () => heartbeating('apt', async (onLine) => bootstrapOn(await ctx.session(plan, vm), onLine))),

    listVms: ({ plan }) =>
      classified('ProviderError', async () => {
        const provider = ctx.provider(plan);
        const vms = await provider.list({ [LABELS.deployment]: plan.service });
        return vms.map((v) => ({
          ...handleOf({ deployment: plan.service, name: v.name, index: Number(v.labels[LABELS.index] ?? 0) }, v, provider.type),
          status: v.status,
        }));
      }),

    stopVm: ({ plan, vm }) =>
      classified('ProviderError', () => heartbeating('stop', async () => {
        await ctx.provider(plan).stop(vm.name, currentActivity()?.cancellationSignal);
        await updateProjectState(plan, (state) => {
          if (state.deployments[vm.name]) state.deployments[vm.name].status = 'stopped';
        });
      })),

    startVm: ({ plan, vm }) =>
      classified('ProviderError', () => heartbeating('start', async () => {
        const provider = ctx.provider(plan);
        const handle = handleOf(vm, await provider.start(vm.name, currentActivity()?.cancellationSignal), provider.type);
        // The ssh provider restarts the stack itself; a restarted machine needs its engine and stack back.
        if (provider.type !== 'ssh') await startEngineIfInstalled(await ctx.session(plan, handle), plan);
        await record(plan, handle, 'running');
        return handle;
      })),

    removeStack: ({ plan, vm }) =>
      classified('ProviderError', () => heartbeating('remove stack', async () => {
        // Only on this project's VM of that name, reached where the provider says it is now. A stopped
        // machine's stack goes with it when destroyVm runs; SSH into it would only time out.
        const ours = await findVm(plan, vm.name);
        if (!ours || ours.status === 'stopped') return;
        await removeStackOn(await ctx.session(plan, ours), plan);
      })),

    adoptVm: ({ plan, name }) =>
      classified('ProviderError', async () => {
        const provider = ctx.provider(plan);
        const instance = await provider.adopt(name, { sshPublicKey: (await ensureSshKey(plan)).publicKey });
        const index = Number(instance.labels[LABELS.index] ?? 0);
        const handle = handleOf({ deployment: plan.service, name, index }, instance, provider.type);
        await record(plan, handle, instance.status);
        return handle;
      }),

    close: () => ctx.closeAll(),
  };
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

async function record(plan: DeployPlan, vm: VmHandle & VmRef, status: string): Promise<void> {
  await updateProjectState(plan, (state) => {
    const previous = state.deployments[vm.name];
    state.deployments[vm.name] = {
      vm_id: vm.id,
      ip: vm.ip,
      type: vm.provider,
      service: plan.service,
      index: vm.index,
      ssh: vm.ssh,
      status,
      containers: previous?.containers ?? [],
      updated_at: new Date().toISOString(),
    };
  });
}
