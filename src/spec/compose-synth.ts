import { relative } from 'node:path';
import type { ComposeModel } from '../docker/compose-config';
import type { Devcontainer } from './devcontainer';
import { ContainerSettings, namedVolumes, withContainerSettings } from './devcontainer-container';

/** The compose service an image or Dockerfile devcontainer becomes. */
export const SINGLE_SERVICE = 'app';

/**
 * An image or Dockerfile devcontainer as a one-service Compose model in the normalised shape
 * `docker compose config` prints, so the transform and everything after it is the same for all kinds:
 * the workspace is bind-mounted at workspaceFolder, or as workspaceMount says (as devcontainer tools
 * do), and forwardPorts are
 * published on the VM's loopback (reach them through SSH).
 */
export function singleServiceModel(devcontainer: Devcontainer, projectDir: string): ComposeModel {
  const service: Record<string, unknown> = {
    volumes: [devcontainer.container.workspaceMount ?? { type: 'bind', source: projectDir, target: devcontainer.workspaceFolder, bind: { create_host_path: true } }],
    working_dir: devcontainer.workspaceFolder,
  };
  if (devcontainer.build) {
    const { context, dockerfile, args, target, cacheFrom } = devcontainer.build;
    service.build = { context, dockerfile: relative(context, dockerfile), args: escapeAll(args), target, cache_from: cacheFrom };
  } else {
    service.image = devcontainer.image;
  }
  const ports = devcontainer.forwardPorts.filter((p): p is number => typeof p === 'number');
  if (ports.length) service.ports = ports.map((p) => ({ mode: 'ingress', host_ip: '127.0.0.1', target: p, published: String(p), protocol: 'tcp' }));
  return { name: SINGLE_SERVICE, services: { [SINGLE_SERVICE]: service } };
}

// Values in a normalised model are escaped for Compose's interpolation, as `config` prints them.
function escapeAll(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.split('$').join('$$')]));
}

/** The model with devcontainer.json's container settings on the primary service, and the named volumes they use declared. */
export function withPrimaryContainer(model: ComposeModel, primaryService: string, settings: ContainerSettings): ComposeModel {
  const primary = model.services?.[primaryService];
  if (!primary) return model;
  const volumes = { ...(model.volumes as Record<string, unknown> | undefined) };
  for (const name of namedVolumes(settings)) volumes[name] ??= {};
  return {
    ...model,
    services: { ...model.services, [primaryService]: withContainerSettings(primary, settings) },
    ...(Object.keys(volumes).length ? { volumes } : {}),
  };
}
