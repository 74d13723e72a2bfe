import { posix } from 'node:path';
import type { HostMarker } from '../providers/ssh-host';
import { REMOTE_STACK_ROOT } from '../spec/compose-mounts';
import type { SshSession } from '../ssh/session';

/**
 * The owner marker of an existing host (provider `ssh`): which project identity holds it, for which
 * VM name. Every checkout that lists the host reads it before claiming, so two projects never
 * share one, whatever their own .kamal/dev_state.yml says.
 */
export const HOST_MARKER = posix.join(REMOTE_STACK_ROOT, '.owner');

const LABEL_PREFIX = 'label.';

export function markerText(marker: HostMarker): string {
  const labels = Object.entries(marker.labels ?? {}).map(([k, v]) => `${LABEL_PREFIX}${k}=${v}\n`);
  return `project=${marker.project}\nname=${marker.name}\n${labels.join('')}`;
}

/** A marker without a project line (hand-made or cut short) counts as absent: nobody holds the host. */
export function parseMarker(text: string): HostMarker | undefined {
  const lines = text.split('\n').filter((line) => line.includes('='));
  const fields = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  if (!fields.project) return undefined;
  const labels = Object.fromEntries(Object.entries(fields).filter(([k]) => k.startsWith(LABEL_PREFIX)).map(([k, v]) => [k.slice(LABEL_PREFIX.length), v]));
  return { project: fields.project, name: fields.name ?? '', ...(Object.keys(labels).length > 0 ? { labels } : {}) };
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

/**
 * link(2) of a complete file fails when the marker exists, so of two workers claiming one host at
 * once exactly one wins; the loser reads the winner's marker. A marker nobody can read as one
 * (hand-made, cut short) is taken over.
 */
export async function claimMarkerOn(session: SshSession, marker: HostMarker): Promise<HostMarker | undefined> {
  const script = 'mkdir -p "$(dirname "$1")" && t="$1.$$.claim" && cat > "$t" && if ln "$t" "$1" 2>/dev/null; then rm -f "$t"; else rm -f "$t"; cat "$1"; fi';
  const result = await session.run(['sh', '-c', script, 'sh', HOST_MARKER], { root: true, input: markerText(marker) });
  if (result.stdout === '') return undefined;
  const holder = parseMarker(result.stdout);
  if (holder) return holder;
  await writeMarkerOn(session, marker);
  return undefined;
}

export async function removeMarkerOn(session: SshSession): Promise<void> {
  await session.run(['rm', '-f', '--', HOST_MARKER], { root: true });
}
