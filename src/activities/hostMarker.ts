import { posix } from 'node:path';
import type { HostMarker } from '../providers/ssh';
import { REMOTE_STACK_ROOT } from '../spec/compose-mounts';
import type { SshSession } from '../ssh/session';

/**
 * The owner marker of an existing host (provider `ssh`): which project identity holds it, for which
 * VM name. Every checkout that lists the host reads it before claiming, so two projects never
 * share one, whatever their own .kamal/dev_state.yml says.
 */
export const HOST_MARKER = posix.join(REMOTE_STACK_ROOT, '.owner');

export function markerText(marker: HostMarker): string {
  return `project=${marker.project}\nname=${marker.name}\n`;
}

/** A marker without a project line (hand-made or cut short) counts as absent: nobody holds the host. */
export function parseMarker(text: string): HostMarker | undefined {
  const fields = Object.fromEntries(text.split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  return fields.project ? { project: fields.project, name: fields.name ?? '' } : undefined;
}

export async function readMarkerOn(session: SshSession): Promise<HostMarker | undefined> {
  const result = await session.exec(['cat', '--', HOST_MARKER], { root: true });
  if (result.exitCode !== 0) {
    if ((await session.exec(['test', '-e', HOST_MARKER], { root: true })).exitCode !== 0) return undefined;
    throw new Error(`reading ${HOST_MARKER} failed: ${result.stderr.trim()}`);
  }
  return parseMarker(result.stdout);
}

export async function writeMarkerOn(session: SshSession, marker: HostMarker): Promise<void> {
  // Written aside and renamed, so a reader on another machine never sees half a marker.
  const script = 'mkdir -p "$(dirname "$1")" && cat > "$1.tmp" && mv -f "$1.tmp" "$1"';
  await session.run(['sh', '-c', script, 'sh', HOST_MARKER], { root: true, input: markerText(marker) });
}

export async function removeMarkerOn(session: SshSession): Promise<void> {
  await session.run(['rm', '-f', '--', HOST_MARKER], { root: true });
}
