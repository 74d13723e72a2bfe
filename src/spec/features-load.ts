import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { configError } from '../errors';
import { parseJsonc } from './devcontainer';
import { featureRequests, FeatureManifest, FeatureSource, parseFeatureSource, resolveOptions, type FeatureRequest } from './features';
import { FeatureLock, lockfilePath } from './features-lock';
import { installOrder, withoutVersion } from './features-order';
import type { ResolvedFeature } from './features-stage';

/** A resolved feature plus where its files are on this machine. */
export type LoadedFeature = ResolvedFeature & { sourceDir: string };

/** A feature that is not a local folder: an OCI reference or a tarball URL. */
export type RemoteFeatureSource = Extract<FeatureSource, { type: 'oci' | 'tarball' }>;

/** Fetches a remote feature into a folder on this machine; `pinned` is the digest it must have. */
export type FetchFeature = (source: RemoteFeatureSource, pinned: string | undefined) => Promise<{ dir: string; digest: string }>;

export interface FeatureLoadContext {
  file: string;
  devcontainerDir: string;
  fetch: FetchFeature;
  /** devcontainer-lock.json's pins: a feature named there is fetched by its recorded digest. */
  lock?: FeatureLock;
}

/**
 * The thin loader: finds or fetches each feature's files, reads devcontainer-feature.json, adds
 * what `dependsOn` asks for, checks options and orders them. Runs in the plan step, before any VM.
 */
export async function loadFeatures(features: Record<string, unknown>, override: string[], where: FeatureLoadContext): Promise<LoadedFeature[]> {
  const loaded: (LoadedFeature & { key: string; id: string; dependsOn: string[]; installsAfter: string[] })[] = [];
  const queue: { request: FeatureRequest; key: string }[] = featureRequests(features, where.file).map((request) => ({ request, key: `features.${request.ref}` }));
  while (queue.length > 0) {
    const { request, key } = queue.shift()!;
    if (loaded.some((f) => f.key === withoutVersion(request.ref))) continue;
    const source = parseFeatureSource(request.ref, { file: where.file, key });
    const { sourceDir, digest } = await featureFiles(request.ref, source, { ...where, key });
    const read = readManifest(sourceDir, { file: where.file, key });
    // The reference CLI knows a tarball's feature by the id in its file name.
    const manifest = source.type === 'tarball' ? { ...read, id: source.id } : read;
    const options = resolveOptions(manifest, request.options, { file: where.file, key });
    const dependsOn = Object.keys(manifest.dependsOn ?? {});
    loaded.push({
      ref: request.ref,
      source,
      manifest,
      options,
      dir: '',
      digest,
      sourceDir,
      key: withoutVersion(request.ref),
      id: manifest.id,
      dependsOn,
      installsAfter: manifest.installsAfter ?? [],
    });
    for (const [ref, value] of Object.entries(manifest.dependsOn ?? {})) {
      queue.push({ request: featureRequests({ [ref]: value }, where.file)[0], key: `${key} (dependsOn ${ref})` });
    }
  }
  return installOrder(loaded, override, where.file).map(({ key: _k, id: _i, dependsOn: _d, installsAfter: _a, ...feature }, i) => ({ ...feature, dir: `${i}_${feature.manifest.id.replace(/[^\w.-]/g, '_')}` }));
}

async function featureFiles(ref: string, source: FeatureSource, where: FeatureLoadContext & { key: string }): Promise<{ sourceDir: string; digest: string }> {
  const at = { file: where.file, key: where.key };
  if (source.type !== 'local') {
    const pinnedByRef = source.type === 'oci' ? source.digest : undefined;
    const pinned = pinnedByRef ?? where.lock?.features[ref]?.integrity;
    try {
      const fetched = await where.fetch(source, pinned);
      if (!existsSync(join(fetched.dir, 'install.sh'))) throw new Error(`it has no install.sh`);
      return { sourceDir: fetched.dir, digest: fetched.digest };
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw configError(`feature ${ref} cannot be fetched: ${(error as Error).message}`, {
        ...at,
        cause: error,
        description: pinned && !pinnedByRef ? `Pinned to ${pinned} by ${basename(lockfilePath(where.file))}; delete its entry there to take ${source.type === 'oci' ? "the tag's current version" : 'the tarball as it is now'}.` : undefined,
      });
    }
  }
  const dir = resolve(where.devcontainerDir, source.path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw configError(`feature folder ${dir} does not exist`, at);
  if (!existsSync(join(dir, 'install.sh'))) throw configError(`feature ${ref} has no install.sh`, { ...at, description: `Looked at ${join(dir, 'install.sh')}.` });
  return { sourceDir: dir, digest: folderDigest(dir) };
}

function readManifest(dir: string, where: { file: string; key: string }): FeatureManifest {
  const file = join(dir, 'devcontainer-feature.json');
  if (!existsSync(file)) throw configError(`no devcontainer-feature.json in ${dir}`, where);
  const data = parseJsonc(readFileSync(file, 'utf8'), file) as FeatureManifest;
  if (!data || typeof data.id !== 'string' || !data.id) throw configError('devcontainer-feature.json needs an "id"', { ...where, description: `In ${file}.` });
  for (const [name, option] of Object.entries(data.options ?? {})) {
    if (option?.type !== 'boolean' && option?.type !== 'string') throw configError(`option ${name} of feature ${data.id} has no type "boolean" or "string"`, { ...where, description: `In ${file}.` });
  }
  return data;
}

/** sha256 over the folder's file names and contents: a changed feature is a changed build. */
function folderDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (folder: string) => {
    for (const name of readdirSync(folder).sort()) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(relative(dir, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(dir);
  return `sha256:${hash.digest('hex')}`;
}
