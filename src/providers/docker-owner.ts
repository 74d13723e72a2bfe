import { posix } from 'node:path';
import type Docker from 'dockerode';
import { LABELS } from './types';

/**
 * Docker cannot change a container's labels, so `adopt` records the new owner in the local VM
 * itself: a symlink whose target ends in the adopting project's identity. The Docker API stats a
 * path in a stopped container as well as in a running one and reports a link's target in the
 * stat header (HEAD /containers/{id}/archive), so every checkout on the machine reads the same
 * owner without a running VM or a tar reader, and the maker's checkout sees the VM as foreign.
 */
export const ADOPTED_BY_LINK = '/etc/kamal-dev/adopted-by';
const PROJECTS_DIR = '/etc/kamal-dev/projects';

/** The identity that adopted the container, if one did. */
export async function adoptedBy(docker: Docker, containerId: string): Promise<string | undefined> {
  let response: NodeJS.ReadableStream & { headers: Record<string, string | undefined> };
  try {
    response = (await docker.getContainer(containerId).infoArchive({ path: ADOPTED_BY_LINK })) as typeof response;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined; // no link (or no container)
    throw error;
  }
  response.resume();
  const header = response.headers['x-docker-container-path-stat'];
  const stat = header ? (JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { linkTarget?: string }) : {};
  return stat.linkTarget?.startsWith(`${PROJECTS_DIR}/`) ? posix.basename(stat.linkTarget) : undefined;
}

/** `docker exec` argv that makes `identity` the container's owner (replacing an earlier adoption). */
export function adoptArgv(containerId: string, identity: string): string[] {
  const script = 'mkdir -p "$(dirname "$1")" && ln -sfn "$2" "$1"';
  return ['docker', 'exec', '--user', 'root', containerId, 'sh', '-c', script, 'sh', ADOPTED_BY_LINK, posix.join(PROJECTS_DIR, identity)];
}

/** The labels as they are now: an adoption's identity replaces the one the container was made with. */
export async function effectiveLabels(docker: Docker, info: { Id: string; Config: { Labels?: Record<string, string> | null } }): Promise<Record<string, string>> {
  const labels = info.Config.Labels ?? {};
  if (labels[LABELS.managed] !== 'true') return labels;
  const adopter = await adoptedBy(docker, info.Id);
  return adopter ? { ...labels, [LABELS.project]: adopter } : labels;
}
