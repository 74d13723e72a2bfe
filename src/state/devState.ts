import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { KamalDevError } from '../errors';
import { withFileLock } from './lock';

/**
 * `.kamal/dev_state.yml`: what this machine last saw of each deployed VM, in the shape kamal-dev
 * users know (deployments by VM name). A cache for `list`/`status`; the provider stays the truth.
 */
export interface DeploymentRecord {
  vm_id: string;
  ip: string;
  /** Provider type: docker, ssh, upcloud. */
  type: string;
  service: string;
  index: number;
  ssh: { host: string; port: number; user: string };
  status: string;
  containers: { service: string; name: string; state: string; health?: string }[];
  updated_at: string;
}

/** Provider `ssh`: one existing host claimed by one VM of one project identity. */
export interface SshClaim {
  name: string;
  project: string;
  /** The workflow that claimed it (absent after `adopt`): only its compensation gives the host back. */
  created_by?: string;
}

export interface DevState {
  deployments: Record<string, DeploymentRecord>;
  /**
   * Provider `ssh`: which VM claimed which existing host ("host:port"). A bare VM name is a claim
   * made before project identities existed: not this project's until `kamal-dev adopt NAME`.
   */
  ssh_claims: Record<string, SshClaim | string>;
  /**
   * Close time (ISO 8601, the server's clock) of the newest completed deploy whose results this
   * machine has recorded or chose not to (src/client/unrecordedDeploys.ts); absent until first looked.
   */
  deploys_recorded_until?: string;
}

export function stateFilePath(projectDir: string): string {
  return join(projectDir, '.kamal', 'dev_state.yml');
}

export function readState(file: string): DevState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { deployments: {}, ssh_claims: {} };
  }
  let doc: Partial<DevState> | null;
  try {
    doc = parse(text) as Partial<DevState> | null;
  } catch (error) {
    throw new KamalDevError('state', `${file} is not valid YAML`, {
      file,
      description: 'kamal-dev rewrites it from the provider: move it aside and run `kamal-dev list`.',
      cause: error,
    });
  }
  const recordedUntil = doc?.deploys_recorded_until;
  return { deployments: doc?.deployments ?? {}, ssh_claims: doc?.ssh_claims ?? {}, ...(typeof recordedUntil === 'string' ? { deploys_recorded_until: recordedUntil } : {}) };
}

/** Read-modify-write under the lock; the new file replaces the old one by an atomic rename. */
export function updateState<T>(file: string, change: (state: DevState) => T): Promise<T> {
  mkdirSync(dirname(file), { recursive: true });
  return withFileLock(file, () => {
    const state = readState(file);
    const result = change(state);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, stringify(state));
    renameSync(tmp, file);
    return result;
  });
}
