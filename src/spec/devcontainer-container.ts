import type { SpecWarning } from './devcontainer-keys';
import { devcontainerMounts, parseMount, bindsLocalOnly, type ComposeVolume } from './devcontainer-mounts';
import { appPorts } from './devcontainer-ports';
import { mapRunArgs } from './devcontainer-runargs';
import type { RawDevcontainer } from './devcontainer-schema';
import type { DevcontainerKind } from './plan';

/**
 * The devcontainer.json keys that shape the primary container, as the reference CLI applies them:
 * `mounts`, `privileged`, `capAdd`, `securityOpt`, `init`, `containerUser` for every kind;
 * `runArgs`, `workspaceMount` and `appPort` for image and Dockerfile devcontainers only (the
 * reference ignores them for Compose, so they are warnings there).
 */
export interface ContainerSettings {
  /** Compose service fields: cap_add, security_opt, privileged, init, user and what runArgs map to. */
  service: Record<string, unknown>;
  volumes: ComposeVolume[];
  ports: Record<string, unknown>[];
  /** Replaces the default bind mount of the project at workspaceFolder (image/Dockerfile only). */
  workspaceMount?: ComposeVolume;
  warnings: SpecWarning[];
}

export interface ContainerContext {
  file: string;
  projectDir: string;
  devcontainerDir: string;
}

export function containerSettings(raw: RawDevcontainer, kind: DevcontainerKind, context: ContainerContext): ContainerSettings {
  const warnings: SpecWarning[] = [];
  const { mounts, localOnly } = devcontainerMounts(raw.mounts ?? [], context);
  for (const { key, source } of localOnly) warnings.push({ file: context.file, key, message: localOnlyMessage(source) });
  const settings: ContainerSettings = { service: {}, volumes: mounts, ports: [], warnings };
  if (kind !== 'compose') {
    const mapped = mapRunArgs(raw.runArgs ?? []);
    settings.service = mapped.service;
    for (const volume of mapped.volumes) {
      if (bindsLocalOnly(volume, context.projectDir, context.devcontainerDir)) warnings.push({ file: context.file, key: 'runArgs', message: localOnlyMessage(volume.source!) });
      else settings.volumes.push(volume);
    }
    for (const { key, arg } of mapped.unmapped) warnings.push({ file: context.file, key, message: `"${arg}" has no Docker Compose equivalent: not applied` });
    settings.ports = appPorts(raw.appPort);
    if (raw.workspaceMount) settings.workspaceMount = parseMount(raw.workspaceMount, { file: context.file, key: 'workspaceMount' });
    if (settings.workspaceMount && bindsLocalOnly(settings.workspaceMount, context.projectDir, context.devcontainerDir)) {
      warnings.push({ file: context.file, key: 'workspaceMount', message: `${localOnlyMessage(settings.workspaceMount.source!)}; the project is mounted instead` });
      settings.workspaceMount = undefined;
    }
  }
  const service = settings.service;
  if (raw.capAdd?.length) service.cap_add = union(service.cap_add, raw.capAdd);
  if (raw.securityOpt?.length) service.security_opt = union(service.security_opt, raw.securityOpt);
  if (raw.privileged) service.privileged = true;
  if (raw.init) service.init = true;
  // runArgs come after containerUser on the reference's `docker run` line, so a `--user` there wins.
  if (raw.containerUser && service.user === undefined) service.user = raw.containerUser;
  return settings;
}

/** The primary service with the settings applied: lists joined, a mount replacing one at the same target. */
export function withContainerSettings(service: Record<string, unknown>, settings: ContainerSettings): Record<string, unknown> {
  const out: Record<string, unknown> = { ...service };
  for (const [key, value] of Object.entries(settings.service)) {
    if (Array.isArray(value) && Array.isArray(out[key])) out[key] = union(out[key], value);
    else if (value && typeof value === 'object' && !Array.isArray(value) && out[key] && typeof out[key] === 'object') out[key] = { ...(out[key] as object), ...value };
    else out[key] = value;
  }
  if (settings.volumes.length) {
    const targets = new Set(settings.volumes.map((v) => v.target));
    out.volumes = [...((out.volumes as ComposeVolume[] | undefined) ?? []).filter((v) => !targets.has(v.target)), ...settings.volumes];
  }
  if (settings.ports.length) out.ports = [...((out.ports as unknown[] | undefined) ?? []), ...settings.ports];
  return out;
}

/** Named volumes the mounts use, for the top-level `volumes:` Compose needs. */
export function namedVolumes(settings: ContainerSettings): string[] {
  return [...new Set(settings.volumes.filter((v) => v.type === 'volume' && v.source).map((v) => v.source!))];
}

function localOnlyMessage(source: string): string {
  return `bind mount of ${source}, a path on this machine only: not mounted on the VM (only the project folder is copied there)`;
}

function union(a: unknown, b: unknown): unknown[] {
  return [...new Set([...((a as unknown[] | undefined) ?? []), ...((b as unknown[] | undefined) ?? [])])];
}
