import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { type DevState, stateFilePath, updateState } from './devState';
import { identityFile, readIdentity } from './identity';

/**
 * Whether this machine holds the plan's project folder: its .kamal/project_id names the plan's
 * identity. Only there do .kamal/ files (the project key of local VMs, known_hosts, dev_state.yml,
 * .kamal/secrets) exist; a worker on another machine resolves credentials by name and leaves the
 * source's files to the source (it updates them from workflow results).
 */
export function holdsProject(plan: { projectDir: string; identity?: string }): boolean {
  // A plan without an identity is older than identities, or was made here for a look (the CLI).
  if (!plan.identity) return existsSync(plan.projectDir);
  return readIdentity(identityFile(plan.projectDir))?.id === plan.identity;
}

/** How errors name the worker that lacked something: the machine, as `kamal-dev worker` runs on it. */
export function workerName(): string {
  return hostname();
}

/**
 * dev_state.yml of the project, changed where the project is; a worker elsewhere leaves it alone
 * (the source machine records what the workflow returns, src/client/sourceRecords.ts).
 */
export async function updateProjectState(plan: { projectDir: string; identity?: string }, change: (state: DevState) => void): Promise<void> {
  if (holdsProject(plan)) await updateState(stateFilePath(plan.projectDir), change);
}
