import { basename, dirname, relative } from 'node:path';
import { isInside } from './paths';

/**
 * The VM's layout: every stack lives in REMOTE_STACK_ROOT/<project name>/, with compose.yaml,
 * env/ (env files), files/ (other files) and workspaces/<project folder name>/ (the synced copy of
 * the project). Keeping the copy one level below workspaces/ makes both devcontainer template
 * forms work: `..:/workspaces/app` mounts workspaces/<project>, and `../..:/workspaces` mounts
 * workspaces/, where the project appears as /workspaces/<project> just as on the laptop.
 */
export const REMOTE_STACK_ROOT = '/opt/kamal-dev';

export function remoteStackDir(projectName: string): string {
  return `${REMOTE_STACK_ROOT}/${projectName}`;
}

/** The synced copy, relative to the stack folder. */
export function workspaceTarget(projectDir: string): string {
  return `workspaces/${basename(projectDir)}`;
}

/** Never copied to a VM: local kamal-dev state and secrets, and dependency folders the container rebuilds. */
export const WORKSPACE_EXCLUDES = ['.kamal', 'node_modules'];

export interface MountResult {
  volumes: unknown[];
  usesWorkspace: boolean;
  dropped: { source: string; reason: string }[];
}

type Volume = { type?: string; source?: string; target?: string } & Record<string, unknown>;

/** Rewrites one service's bind mounts: the project (or its parent folder) to the synced copy; other host paths dropped. */
export function rewriteMounts(volumes: unknown[], projectDir: string, stackDir: string, service: string): MountResult {
  const result: MountResult = { volumes: [], usesWorkspace: false, dropped: [] };
  const remoteWorkspace = `${stackDir}/${workspaceTarget(projectDir)}`;
  for (const entry of volumes) {
    const volume = entry as Volume;
    if (volume.type !== 'bind' || !volume.source) {
      result.volumes.push(volume);
      continue;
    }
    const source = volume.source;
    let remote: string | undefined;
    if (isInside(projectDir, source)) {
      const rel = relative(projectDir, source);
      remote = rel ? `${remoteWorkspace}/${rel.split('\\').join('/')}` : remoteWorkspace;
    } else if (source === dirname(projectDir)) {
      remote = `${stackDir}/workspaces`;
    }
    if (remote) {
      result.usesWorkspace = true;
      result.volumes.push({ ...volume, source: remote });
    } else {
      result.dropped.push({
        source,
        reason: `bind mount of ${source} into ${service}:${volume.target} is outside the project; only the project folder is copied to the VM`,
      });
    }
  }
  return result;
}
