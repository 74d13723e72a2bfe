/** How a VM is named within a deployment. */
export interface VmRef {
  /** The deployment (config `service`); every VM carries it as a label. */
  deployment: string;
  name: string;
  index: number;
}

export interface VmHandle extends VmRef {
  /** Provider's id (container id, server uuid, host name). */
  id: string;
  provider: string;
  ssh: { host: string; port: number; user: string };
  /** Address shown to users (public IP, or 127.0.0.1 for local VMs). */
  ip: string;
  /** As the provider reported it when this handle was made. */
  status?: 'running' | 'stopped' | 'starting' | 'unknown';
  /** From provisionVm: true when this run made the VM, false when it found it (a redeploy). */
  created?: boolean;
  /**
   * `type base64` of the host key waitForSsh authenticated against (public data): every later step
   * of the workflow pins it, whichever worker runs it. Absent before waitForSsh and in older runs.
   */
  hostKey?: string;
}
