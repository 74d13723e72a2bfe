import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { configError } from '../errors';
import { parseJsonc } from './devcontainer';
import { featureRequests, FeatureManifest, parseFeatureSource, resolveOptions, type FeatureRequest } from './features';
import { installOrder, withoutVersion } from './features-order';
import type { ResolvedFeature } from './features-stage';

/** A resolved feature plus where its files are on this machine. */
export type LoadedFeature = ResolvedFeature & { sourceDir: string };

/**
 * The thin loader: finds each feature's files, reads devcontainer-feature.json, adds what
 * `dependsOn` asks for, checks options and orders them. Runs in the plan step, before any VM.
 * Local folders only for now: OCI references and tarball URLs are refused with a clear error.
 */
export function loadFeatures(features: Record<string, unknown>, override: string[], where: { file: string; devcontainerDir: string }): LoadedFeature[] {
  const loaded: (LoadedFeature & { key: string; id: string; dependsOn: string[]; installsAfter: string[] })[] = [];
  const queue: { request: FeatureRequest; key: string }[] = featureRequests(features, where.file).map((request) => ({ request, key: `features.${request.ref}` }));
  while (queue.length > 0) {
    const { request, key } = queue.shift()!;
    if (loaded.some((f) => f.key === withoutVersion(request.ref))) continue;
    const sourceDir = featureFolder(request.ref, { file: where.file, key }, where.devcontainerDir);
    const manifest = readManifest(sourceDir, { file: where.file, key });
    const options = resolveOptions(manifest, request.options, { file: where.file, key });
    const dependsOn = Object.keys(manifest.dependsOn ?? {});
    loaded.push({
      ref: request.ref,
      source: { type: 'local', path: request.ref },
      manifest,
      options,
      dir: '',
      digest: folderDigest(sourceDir),
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

function featureFolder(ref: string, where: { file: string; key: string }, devcontainerDir: string): string {
  const source = parseFeatureSource(ref, where);
  if (source.type !== 'local') {
    throw configError(`${source.type === 'oci' ? 'OCI' : 'tarball'} features are not fetched by this version of kamal-dev`, {
      ...where,
      description: 'Copy the feature into a folder next to devcontainer.json and name it "./features/NAME" for now.',
    });
  }
  const dir = resolve(devcontainerDir, source.path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw configError(`feature folder ${dir} does not exist`, where);
  if (!existsSync(join(dir, 'install.sh'))) throw configError(`feature ${ref} has no install.sh`, { ...where, description: `Looked at ${join(dir, 'install.sh')}.` });
  return dir;
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
