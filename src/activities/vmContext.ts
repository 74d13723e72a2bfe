import { createProvider } from '../providers';
import { KamalDevError } from '../errors';
import type { HostStack } from '../providers/ssh';
import type { Provider, VmInstance } from '../providers/types';
import type { DeployPlan, ProviderConfig } from '../spec/plan';
import { workerSshKeyPath } from '../ssh/keys';
import { hostPattern, knownHostsFile } from '../ssh/knownHosts';
import { type ConnectOptions, SshPool } from '../ssh/pool';
import type { SshSession } from '../ssh/session';
import { stateFilePath } from '../state/devState';
import { holdsProject, workerName } from '../state/source';
import { attemptDeadline, currentActivity } from './activityContext';
import { claimMarkerOn, readMarkerOn, removeMarkerOn, writeMarkerOn } from './hostMarker';
import { removeStackOn, startStackOn, stopStackOn } from './remoteStack';
import type { VmHandle, VmRef } from './types';

export interface VmActivityDeps {
  /** Secret name -> value, on the worker (from .kamal/secrets or the environment). */
  resolveSecret(name: string, plan: DeployPlan): Promise<string>;
  /** How long a VM may take to accept SSH. Default 120s. */
  sshTimeoutMs?: number;
  /** How long verifyStack waits for every service to be running/healthy. Default 180s. */
  verifyTimeoutMs?: number;
  /** Log lines per failing service in a StackUnhealthy error. Default 40. */
  logTail?: number;
  /** Extra providers (upcloud) by type; they get the plan to resolve their own credentials. */
  providers?: Record<string, (config: ProviderConfig, plan: DeployPlan) => Provider>;
}


/** Shared by every VM activity of one worker: SSH pools (one per key + known_hosts) and providers. */
export class VmContext {
  private readonly pools = new Map<string, SshPool>();

  constructor(readonly deps: VmActivityDeps) {}

  pool(plan: DeployPlan): SshPool {
    const privateKeyPath = workerSshKeyPath(plan);
    // The project's known_hosts where the project is; elsewhere host keys come pinned from workflow state.
    const file = holdsProject(plan) ? knownHostsFile(plan) : undefined;
    const key = `${privateKeyPath}\n${file ?? ''}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new SshPool({ privateKeyPath, knownHostsFile: file, connectTimeoutMs: this.deps.sshTimeoutMs ?? 120_000 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** `keyRefusalsUntil`: see ConnectOptions; only waitForSsh, right after a provision, gives one. */
  session(plan: DeployPlan, vm: Pick<VmHandle, 'ssh' | 'hostKey' | 'created'>, keyRefusalsUntil?: number): Promise<SshSession> {
    const pinned = hostKeyPin(plan, vm);
    return this.pool(plan).session(vm.ssh, { signal: currentActivity()?.cancellationSignal, deadline: attemptDeadline(), keyRefusalsUntil, ...pinned });
  }

  /** The plan's provider, seeing only the VMs of the plan's project identity. */
  provider(plan: DeployPlan): Provider {
    if (!plan.identity) {
      throw new KamalDevError('state', `this operation was planned by a kamal-dev without project identities, so it cannot tell whose VMs are whose`, {
        description: 'Cancel it (`kamal-dev cancel ID`) and run the command again: a new plan carries the identity.',
      });
    }
    const onHost = (operation: (session: SshSession, plan: DeployPlan) => Promise<void>) => async (vm: VmInstance) =>
      operation(await this.session(plan, vm), plan);
    const hostStack: HostStack = {
      remove: onHost(removeStackOn),
      stop: onHost(stopStackOn),
      start: onHost(startStackOn),
      readMarker: async (vm) => readMarkerOn(await this.session(plan, vm)),
      writeMarker: async (vm, marker) => writeMarkerOn(await this.session(plan, vm), marker),
      claimMarker: async (vm, marker) => claimMarkerOn(await this.session(plan, vm), marker),
      removeMarker: onHost(removeMarkerOn),
    };
    return createProvider(plan.provider, {
      identity: plan.identity,
      sshUser: plan.ssh.user,
      sshPort: plan.ssh.port,
      // The state file where the project is; elsewhere the ssh provider's markers alone say who holds a host.
      ...(holdsProject(plan) ? { stateFile: stateFilePath(plan.projectDir) } : {}),
      hostStack,
      others: Object.fromEntries(Object.entries(this.deps.providers ?? {}).map(([type, make]) => [type, (config: ProviderConfig) => make(config, plan)])),
    });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.closeAll()));
  }
}

/**
 * The key a session with this VM must see: the one the workflow learnt at waitForSsh, else (on a
 * worker without the project's known_hosts) the one the source machine recorded. A VM this run made
 * is a new machine, whatever an old record of its address says (an existing host, provider ssh, is not).
 */
export function hostKeyPin(plan: DeployPlan, vm: Pick<VmHandle, 'ssh' | 'hostKey' | 'created'>): Pick<ConnectOptions, 'hostKey' | 'hostKeyOrigin'> {
  if (vm.hostKey) return { hostKey: vm.hostKey };
  if ((vm.created && plan.provider.type !== 'ssh') || holdsProject(plan)) return {};
  const pattern = hostPattern(vm.ssh.host, vm.ssh.port);
  const recorded = plan.ssh.hostKeys?.[pattern];
  if (recorded) return { hostKey: recorded, hostKeyOrigin: 'source' };
  if (!plan.ssh.knownHostsOnly) return {};
  throw new KamalDevError('ssh', `the source machine has no SSH host key of ${pattern}, so worker ${workerName()} cannot check that it reaches the right machine`, {
    type: 'SshHostKeyUnknown',
    description:
      'Run the command again on the machine that holds the project after `kamal-dev list` there has recorded the deploys that workers elsewhere ran, ' +
      `or add the host's key to its .kamal/known_hosts (ssh-keyscan -p ${vm.ssh.port} ${vm.ssh.host}, checked).`,
  });
}

export function handleOf(ref: VmRef, vm: VmInstance, provider: string): VmHandle {
  return { ...ref, id: vm.id, provider, ssh: vm.ssh, ip: vm.ip };
}
