import { bootstrapOn, startEngineIfInstalled } from './bootstrap';
import { classified, userFailure } from './failures';
import { removeStackOn } from './remoteStack';
import { createStackActivities } from './stack';
import type { DeployActivities, LifecycleActivities, VmHandle, VmRef } from './types';
import { attemptDeadline, heartbeating } from './activityContext';
import { handleOf, knownHostsFile, VmActivityDeps, VmContext } from './vmContext';
import { KamalDevError } from '../errors';
import { LABELS } from '../providers/types';
import type { DeployPlan } from '../spec/plan';
import { ensureSshKey } from '../ssh/keys';
import { forgetHost } from '../ssh/knownHosts';
import { stateFilePath, updateState } from '../state/devState';

export type VmActivities = Pick<
  DeployActivities,
  'provisionVm' | 'destroyVm' | 'waitForSsh' | 'bootstrapVm' | 'uploadStack' | 'composeUp' | 'rollbackStack' | 'verifyStack' | 'runDevcontainerCommands'
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

    provisionVm: ({ plan, vm }) =>
      classified('ProviderError', async () => {
        const { publicKey } = await ensureSshKey(plan);
        const provider = ctx.provider(plan);
        const labels = {
          [LABELS.managed]: 'true',
          [LABELS.service]: plan.service,
          [LABELS.deployment]: vm.deployment,
          [LABELS.index]: String(vm.index),
        };
        const instance = await provider.provision({ name: vm.name, labels, sshPublicKey: publicKey, deadline: attemptDeadline() });
        const handle = handleOf(vm, instance, provider.type);
        await record(plan, handle, 'provisioned');
        return handle;
      }),

    destroyVm: ({ plan, vm }) =>
      classified('ProviderError', async () => {
        const provider = ctx.provider(plan);
        const existing = await findVm(plan, vm.name);
        await provider.destroy(vm.name);
        if (existing) {
          await ctx.pool(plan).drop(existing.ssh);
          // A machine that is gone takes its host key along; the next one on this address is a new host.
          if (provider.type !== 'ssh') forgetHost(knownHostsFile(plan), existing.ssh.host, existing.ssh.port);
        }
        await updateState(stateFilePath(plan.projectDir), (state) => void delete state.deployments[vm.name]);
      }),

    waitForSsh: ({ plan, vm }) =>
      classified('SshAuthFailed', async () => {
        try {
          await (await ctx.session(plan, vm)).run(['true']);
        } catch (error) {
          // A VM that went down (a local VM whose init failed) would refuse connections until every retry is spent.
          const now = await findVm(plan, vm.name).catch(() => undefined);
          if (now && now.status === 'stopped') {
            const stopped = new KamalDevError('provider', `VM ${vm.name} stopped while kamal-dev was waiting for its sshd`, {
              description: plan.provider.type === 'docker' ? `Its output says why: docker logs ${vm.name}` : undefined,
            });
            throw userFailure('ProviderError', stopped);
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
      classified('ProviderError', async () => {
        await ctx.provider(plan).stop(vm.name);
        await updateState(stateFilePath(plan.projectDir), (state) => {
          if (state.deployments[vm.name]) state.deployments[vm.name].status = 'stopped';
        });
      }),

    startVm: ({ plan, vm }) =>
      classified('ProviderError', async () => {
        const provider = ctx.provider(plan);
        const handle = handleOf(vm, await provider.start(vm.name), provider.type);
        // The ssh provider restarts the stack itself; a restarted machine needs its engine and stack back.
        if (provider.type !== 'ssh') await startEngineIfInstalled(await ctx.session(plan, handle), plan);
        await record(plan, handle, 'running');
        return handle;
      }),

    removeStack: ({ plan, vm }) =>
      classified('ProviderError', async () => {
        if (!(await findVm(plan, vm.name))) return;
        await removeStackOn(await ctx.session(plan, vm), plan);
      }),

    close: () => ctx.closeAll(),
  };
}

async function record(plan: DeployPlan, vm: VmHandle & VmRef, status: string): Promise<void> {
  await updateState(stateFilePath(plan.projectDir), (state) => {
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
