import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { configError } from '../errors';
import type { ResolvedFeature } from './features-stage';

/** devcontainer-lock.json, as the reference CLI writes and reads it. */
export interface FeatureLock {
  features: Record<string, { version: string; resolved: string; integrity: string; dependsOn?: string[] }>;
}

/** Next to devcontainer.json; `.devcontainer-lock.json` for a `.devcontainer.json`. */
export function lockfilePath(devcontainerFile: string): string {
  return join(dirname(devcontainerFile), basename(devcontainerFile).startsWith('.') ? '.devcontainer-lock.json' : 'devcontainer-lock.json');
}

/**
 * The lock of the fetched (OCI and tarball) features, keyed by the reference as written and sorted
 * like the reference CLI's; a tarball resolves to its URL, its integrity is the tarball's sha256.
 */
export function featureLock(features: ResolvedFeature[]): FeatureLock {
  const entries = features
    .flatMap((f) => (f.source.type === 'local' ? [] : [{ ...f, source: f.source }]))
    .map((f) => {
      const dependsOn = Object.keys(f.manifest.dependsOn ?? {});
      const resolved = f.source.type === 'oci' ? `${f.source.registry}/${f.source.repository}@${f.digest}` : new URL(f.source.url).toString();
      return [f.ref, { version: f.manifest.version ?? '', resolved, integrity: f.digest, ...(dependsOn.length ? { dependsOn } : {}) }] as const;
    })
    .sort(([a], [b]) => a.localeCompare(b));
  return { features: Object.fromEntries(entries) };
}

/** The lock file's pins, or none when there is no lock file (an empty one is a request to write it). */
export function readFeatureLock(devcontainerFile: string, shown: string): FeatureLock | undefined {
  const file = lockfilePath(devcontainerFile);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') return undefined;
  try {
    const lock = JSON.parse(text) as FeatureLock;
    if (lock && typeof lock.features === 'object') return lock;
  } catch {
    // reported below
  }
  throw configError(`${basename(file)} is not a feature lock file`, { file: join(dirname(shown), basename(file)), key: 'features', description: 'Delete it: the next build writes it again.' });
}

/** Writes the lock when it says something new; with no fetched features there is nothing to lock and no file is made. */
export function writeFeatureLock(devcontainerFile: string, lock: FeatureLock): void {
  const file = lockfilePath(devcontainerFile);
  const text = JSON.stringify(lock, null, 2) + '\n';
  const old = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (old === undefined && Object.keys(lock.features).length === 0) return;
  let normalized: string | undefined;
  try {
    normalized = old === undefined ? undefined : JSON.stringify(JSON.parse(old), null, 2) + '\n';
  } catch {
    normalized = undefined;
  }
  if (normalized !== text) writeFileSync(file, text);
}
