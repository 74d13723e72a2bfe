import type { OpenPort } from '../spec/compose-ports';

/** One interface for every place a VM can come from; one file per provider implements it. */
export interface VmInstance {
  /** Provider's id: container id, server uuid, or host name. */
  id: string;
  name: string;
  status: 'running' | 'stopped' | 'starting' | 'unknown';
  /** How to reach sshd on it. */
  ssh: { host: string; port: number; user: string };
  /** Address shown to people (public IPv4, or 127.0.0.1 for local VMs). */
  ip: string;
  labels: Record<string, string>;
}

export interface ProvisionRequest {
  name: string;
  /** kamal-dev.service, kamal-dev.deployment, kamal-dev.index (managed and project are the provider's own). */
  labels: Record<string, string>;
  /**
   * Who provisions (a workflow id): a VM made now carries it as `kamal-dev.created-by`, so a later
   * `destroy(name, {createdBy})` takes only what this run made, also after a retry found it.
   */
  createdBy?: string;
  /** OpenSSH public key line that must be authorised for the SSH user. */
  sshPublicKey: string;
  /** Besides SSH, what may be reached from other machines; absent: nothing. */
  openPorts?: OpenPort[];
  /**
   * Epoch ms after which a provider that waits for a VM to come up gives up with its own error
   * (and deletes what it made), rather than being cut off by Temporal's activity timeout.
   */
  deadline?: number;
}

export interface ProvisionedVm extends VmInstance {
  /** Made by this request or by an earlier attempt with the same `createdBy`; false: it was there. */
  created: boolean;
}

/** destroyed; gone (nothing of this project had that name); kept (it was not made by `createdBy`). */
export type DestroyOutcome = 'destroyed' | 'gone' | 'kept';

/**
 * Every provider is made for one project identity and sees only that project's VMs: every
 * operation matches on the identity, never on a bare name. A VM that has the name but belongs to
 * another identity (or to none: made before identities existed, or not by kamal-dev) is an error
 * that names it, and nothing touches it, except `adopt`, which a user asks for.
 */
export interface Provider {
  readonly type: string;
  /** Idempotent: returns this project's VM with this name when it exists, creates it otherwise. */
  provision(request: ProvisionRequest, signal?: AbortSignal): Promise<ProvisionedVm>;
  /**
   * Destroys this project's VM of this name. With `createdBy`, only a VM that carries it; any other
   * VM of that name (this project's or not) is kept, untouched.
   */
  destroy(name: string, options?: { createdBy?: string }): Promise<DestroyOutcome>;
  /** This project's VMs that carry all of these labels. */
  list(labels: Record<string, string>): Promise<VmInstance[]>;
  /** A cloud server's stop (and start) can take minutes: the signal ends the wait when the step is cancelled. */
  stop(name: string, signal?: AbortSignal): Promise<void>;
  start(name: string, signal?: AbortSignal): Promise<VmInstance>;
  /**
   * Makes a kamal-dev VM of another identity (or none) with this name this project's. A provider
   * that can (local VMs) also authorises this project's SSH key, which another checkout may not share.
   */
  adopt(name: string, access: { sshPublicKey: string }): Promise<VmInstance>;
}

export const LABELS = {
  managed: 'kamal-dev.managed',
  /** The project identity (src/state/identity.ts): VMs of other projects never match. */
  project: 'kamal-dev.project',
  service: 'kamal-dev.service',
  deployment: 'kamal-dev.deployment',
  index: 'kamal-dev.index',
  /** The workflow that made the VM: its compensation destroys only what it made. */
  createdBy: 'kamal-dev.created-by',
} as const;
