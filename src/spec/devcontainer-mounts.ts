import { dirname, resolve } from 'node:path';
import { configError } from '../errors';
import { isInside } from './paths';

/** A Compose long-syntax volume, as `docker compose config` prints it. */
export type ComposeVolume = { type: 'bind' | 'volume' | 'tmpfs'; source?: string; target: string; read_only?: boolean } & Record<string, unknown>;

/**
 * A devcontainer `mounts` entry: Docker's `--mount` string (`type=bind,source=/a,target=/b,readonly`;
 * `src`, `dst`, `destination` and `ro` too) or the spec's object `{type, source, target}`.
 */
export function parseMount(value: string | { type: string; source?: string; target: string }, where: { file: string; key: string }): ComposeVolume {
  const fields = typeof value === 'string' ? mountFields(value, where) : { ...value };
  const type = fields.type ?? 'volume';
  const target = fields.target ?? fields.destination ?? fields.dst;
  const source = fields.source ?? fields.src;
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw configError(`mount type "${type}" is not bind, volume or tmpfs`, where);
  if (!target) throw configError('a mount needs a target', { ...where, description: 'Write it as "source=NAME,target=/path,type=volume".' });
  if (type === 'bind' && !source) throw configError('a bind mount needs a source', where);
  const volume: ComposeVolume = { type, target };
  if (source) volume.source = source;
  if ('readonly' in fields || 'ro' in fields) volume.read_only = fields.readonly !== 'false' && fields.ro !== 'false';
  if (type === 'bind') volume.bind = { create_host_path: true };
  return volume;
}

function mountFields(text: string, where: { file: string; key: string }): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const part of text.split(',')) {
    const [name, ...rest] = part.split('=');
    if (!name.trim()) throw configError(`"${text}" is not a mount (expected type=...,source=...,target=...)`, where);
    fields[name.trim()] = rest.join('=').trim();
  }
  return fields;
}

/**
 * A bind mount can only be kept when the VM has the source: the project (copied there) or the
 * folder above it. Anything else is a path on this machine alone.
 */
export function bindsLocalOnly(volume: ComposeVolume, projectDir: string, devcontainerDir: string): boolean {
  if (volume.type !== 'bind' || !volume.source) return false;
  const source = resolve(devcontainerDir, volume.source);
  return !isInside(projectDir, source) && source !== dirname(projectDir);
}

/** `mounts` entries for the primary service; bind mounts of local-only paths are left out and named. */
export function devcontainerMounts(
  entries: (string | { type: string; source?: string; target: string })[],
  context: { file: string; projectDir: string; devcontainerDir: string },
): { mounts: ComposeVolume[]; localOnly: { key: string; source: string }[] } {
  const mounts: ComposeVolume[] = [];
  const localOnly: { key: string; source: string }[] = [];
  entries.forEach((entry, i) => {
    const key = `mounts[${i}]`;
    const volume = parseMount(entry, { file: context.file, key });
    if (bindsLocalOnly(volume, context.projectDir, context.devcontainerDir)) localOnly.push({ key, source: volume.source! });
    else mounts.push(volume.type === 'bind' ? { ...volume, source: resolve(context.devcontainerDir, volume.source!) } : volume);
  });
  return { mounts, localOnly };
}
