export interface ContainerState {
  service: string;
  name: string;
  state: string; // running, exited, ...
  health?: string; // healthy, unhealthy, starting
  ports: string[];
}

/** A lifecycle command that failed where the VM still counts as deployed: kept on the VM for `status`. */
export interface FailedCommand {
  /** postStartCommand, postAttachCommand, ... */
  hook: string;
  /** The feature whose command it was; absent for devcontainer.json's own. */
  feature?: string;
  /** The entry's name in an object-form command. */
  step?: string;
  exitCode: number | null;
  /** The last lines of its output, secrets redacted. */
  lines: string[];
  /** When it failed (ISO 8601). */
  at: string;
}
