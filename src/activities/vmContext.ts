import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { createProvider } from '../providers';
import type { Provider, VmInstance } from '../providers/types';
import type { DeployPlan, ProviderConfig } from '../spec/plan';
import { sshKeyPath } from '../ssh/keys';
import { SshPool } from '../ssh/pool';
import type { SshSession } from '../ssh/session';
import { stateFilePath } from '../state/devState';
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

export function knownHostsFile(plan: DeployPlan): string {
  return join(plan.projectDir, '.kamal', 'known_hosts');
}

/** Shared by every VM activity of one worker: SSH pools (one per key + known_hosts) and providers. */
export class VmContext {
  private readonly pools = new Map<string, SshPool>();

  constructor(readonly deps: VmActivityDeps) {}

  pool(plan: DeployPlan): SshPool {
    const privateKeyPath = sshKeyPath(plan);
    const file = knownHostsFile(plan);
    const key = `${privateKeyPath}\n${file}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new SshPool({ privateKeyPath, knownHostsFile: file, connectTimeoutMs: this.deps.sshTimeoutMs ?? 120_000 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  session(plan: DeployPlan, vm: { ssh: VmHandle['ssh'] }): Promise<SshSession> {
    return this.pool(plan).session(vm.ssh, cancellationSignal(), attemptDeadline());
  }

  provider(plan: DeployPlan): Provider {
    const onHost = (operation: (session: SshSession, plan: DeployPlan) => Promise<void>) => async (vm: VmInstance) =>
      operation(await this.session(plan, vm), plan);
    return createProvider(plan.provider, {
      sshUser: plan.ssh.user,
      sshPort: plan.ssh.port,
      stateFile: stateFilePath(plan.projectDir),
      hostStack: { remove: onHost(removeStackOn), stop: onHost(stopStackOn), start: onHost(startStackOn) },
      others: Object.fromEntries(Object.entries(this.deps.providers ?? {}).map(([type, make]) => [type, (config: ProviderConfig) => make(config, plan)])),
    });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.closeAll()));
  }
}

export function handleOf(ref: VmRef, vm: VmInstance, provider: string): VmHandle {
  return { ...ref, id: vm.id, provider, ssh: vm.ssh, ip: vm.ip };
}

/** Inside an activity: Temporal's heartbeat and cancellation; outside one (scripts), nothing. */
export function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    // not running as an activity
  }
}

/** Remote steps can be silent for minutes (apt downloading, compose waiting for a healthcheck). */
const QUIET_HEARTBEAT_MS = 5_000;

/**
 * Runs a long remote step that heartbeats on every line of output and, between lines, on a timer:
 * a short heartbeat timeout then notices a dead worker, not a quiet command.
 */
export async function heartbeating<T>(details: string, work: (onLine: () => void) => Promise<T>): Promise<T> {
  const beat = () => heartbeat(details);
  const timer = setInterval(beat, QUIET_HEARTBEAT_MS);
  try {
    return await work(beat);
  } finally {
    clearInterval(timer);
  }
}

/**
 * When this activity attempt will be cut off by its start-to-close timeout, less a margin (a quarter
 * of the timeout, at most 30 s) in which a step that gives up can still clean up and say why.
 * Outside an activity: undefined.
 */
export function attemptDeadline(): number | undefined {
  try {
    const timeoutMs = Context.current().info.startToCloseTimeoutMs;
    return Date.now() + timeoutMs - Math.min(30_000, timeoutMs / 4);
  } catch {
    return undefined;
  }
}

function cancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}
