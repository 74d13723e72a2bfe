import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { RegistryWriter } from '../registry/blobs';
import { ensureLocalRegistry } from '../registry/local';
import type { DeployPlan, WorkspaceSeed } from '../spec/plan';
import { registryCredentials, type ResolveSecret } from './credentials';
import { keepRecentSeeds } from './seed-retention';
import { seedLayer } from './seed-layer';

const MANIFEST_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const CONFIG_TYPE = 'application/vnd.docker.container.image.v1+json';
const LAYER_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface SeedOptions {
  resolveSecret: ResolveSecret;
  localRegistryImage?: string;
  signal?: AbortSignal;
}

/**
 * The repository of the seed: beside the primary image's (`...-dev-workspace`), so the credentials
 * that push the images push it too; `{registry}/{namespace}/{service}-workspace` with nothing built.
 */
export function seedRepository(plan: DeployPlan): string {
  const primary = plan.builds.find((b) => b.service === plan.stack.primaryService) ?? plan.builds[0];
  const base = primary ? primary.image.replace(/[:@][^/]*$/, '') : `${plan.registry.server}/${plan.registry.namespace}/${plan.service}`;
  return `${base}-workspace`;
}

/** Whether the stack has anything a seed would carry. */
export function needsSeed(plan: DeployPlan): boolean {
  return !!plan.stack.workspace || plan.stack.files.length > 0;
}

/**
 * The workspace copy and the stack's files as a `FROM scratch` image in the deployment's registry,
 * named by its content (tag `sha256-<manifest digest>`): an unchanged tree makes the same manifest,
 * which the registry has already, and nothing is sent. The VMs pull it by digest (seedWorkspace).
 */
export async function pushWorkspaceSeed(plan: DeployPlan, options: SeedOptions): Promise<WorkspaceSeed> {
  const credentials = registryCredentials(plan, options.resolveSecret);
  if (plan.registry.local) await ensureLocalRegistry({ port: Number(plan.registry.server.split(':')[1]), image: options.localRegistryImage, signal: options.signal });
  const layer = await seedLayer(plan.stack, options.signal);
  try {
    const config = Buffer.from(
      JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.diffId] } }),
    );
    const configDigest = sha256(config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_TYPE,
        config: { mediaType: CONFIG_TYPE, size: config.length, digest: configDigest },
        layers: [{ mediaType: LAYER_TYPE, size: layer.size, digest: layer.digest }],
      }),
    );
    const digest = sha256(manifest);
    const repository = seedRepository(plan);
    const host = repository.split('/')[0];
    const writer = new RegistryWriter(host, repository.slice(host.length + 1), credentials, options.signal);
    const tag = digest.replace(':', '-');
    const described = { image: `${repository}@${digest}`, digest, files: layer.files, bytes: layer.workspaceBytes };
    const pushed = !(await writer.hasManifest(tag, MANIFEST_TYPE));
    if (pushed) {
      await writer.putBlob({ digest: layer.digest, size: layer.size, file: layer.file });
      await writer.putBlob({ digest: configDigest, size: config.length, bytes: config });
      await writer.putManifest(tag, MANIFEST_TYPE, manifest);
    }
    await keepRecentSeeds(plan.projectDir, repository, digest, writer);
    return { ...described, pushed };
  } finally {
    rmSync(layer.dir, { recursive: true, force: true });
  }
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
