import type { VmInstance } from './types';

export interface ExistingHost {
  host: string;
  port?: number;
  user?: string;
}

/** What the owner marker on a claimed host (/opt/kamal-dev/.owner) says. */
export interface HostMarker {
  project: string;
  name: string;
  /** service, deployment, index, created-by: what a worker without the source's state file lists it by. */
  labels?: Record<string, string>;
}

/** What the ssh provider does on a claimed host through SSH (src/remote/hostStack.ts, over the activities' session). */
export interface HostStack {
  /** Removes the stack and its files from the host; the host itself stays. */
  remove(vm: VmInstance): Promise<void>;
  stop(vm: VmInstance): Promise<void>;
  start(vm: VmInstance): Promise<void>;
  /** Absent on a host that no kamal-dev project holds. */
  readMarker(vm: VmInstance): Promise<HostMarker | undefined>;
  /** Replaces the marker (adopt). */
  writeMarker(vm: VmInstance, marker: HostMarker): Promise<void>;
  /**
   * Writes the marker only if the host has none, atomically on the host: of two workers claiming it
   * at once, one wins. Returns the marker that holds the host when it was not free.
   */
  claimMarker(vm: VmInstance, marker: HostMarker): Promise<HostMarker | undefined>;
  removeMarker(vm: VmInstance): Promise<void>;
}
