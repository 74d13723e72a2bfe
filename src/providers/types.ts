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
  /** kamal-dev.service, kamal-dev.deployment, kamal-dev.index, kamal-dev.managed */
  labels: Record<string, string>;
  /** OpenSSH public key line that must be authorised for the SSH user. */
  sshPublicKey: string;
  /**
   * Epoch ms after which a provider that waits for a VM to come up gives up with its own error
   * (and deletes what it made), rather than being cut off by Temporal's activity timeout.
   */
  deadline?: number;
}

export interface Provider {
  readonly type: string;
  /** Idempotent: returns the VM with this name (and labels) when it exists, creates it otherwise. */
  provision(request: ProvisionRequest, signal?: AbortSignal): Promise<VmInstance>;
  /** A VM that is already gone is a success. */
  destroy(name: string): Promise<void>;
  /** Every VM carrying all of these labels. */
  list(labels: Record<string, string>): Promise<VmInstance[]>;
  stop(name: string): Promise<void>;
  start(name: string): Promise<VmInstance>;
}

export const LABELS = {
  managed: 'kamal-dev.managed',
  /** The project identity (src/state/identity.ts): VMs of other projects never match. */
  project: 'kamal-dev.project',
  service: 'kamal-dev.service',
  deployment: 'kamal-dev.deployment',
  index: 'kamal-dev.index',
} as const;
