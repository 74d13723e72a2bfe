import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RegistryWriter } from '../registry/blobs';
import { withFileLock } from '../state/lock';

/** The seeds this checkout pushed, newest first, by repository: `.kamal/workspace_seeds.json`. */
export function seedsFile(projectDir: string): string {
  return join(projectDir, '.kamal', 'workspace_seeds.json');
}

/** How many of this checkout's seeds stay in the registry: the one a deploy pushes, and the one before. */
export const SEEDS_KEPT = 2;

/**
 * Retention of workspace seeds. On this machine none stay (the layer is made in a temporary folder,
 * removed after the push), and on VMs none either (seedWorkspace removes the pulled image and its
 * container). In the registry, once a deploy has pushed (or found) its seed, the seeds this checkout
 * pushed before the previous one are deleted by digest: a seed is pulled only by the deploy that
 * pushed it, and the project's operation lock lets no two deploys run at once; the previous stays
 * as a margin. Only the v2 API's DELETE is used, where the registry allows it (distribution with
 * storage.delete.enabled, as kamal-dev's local registry runs); elsewhere (GHCR, Docker Hub) they stay
 * for the registry's own retention policy. Seeds another checkout pushed are never touched. A deleted
 * manifest's layer is freed by the registry's garbage collection, not by kamal-dev.
 */
export async function keepRecentSeeds(projectDir: string, repository: string, digest: string, registry: Pick<RegistryWriter, 'deleteManifest'>): Promise<string[]> {
  const file = seedsFile(projectDir);
  mkdirSync(dirname(file), { recursive: true });
  return withFileLock(file, async () => {
    const all = readSeeds(file);
    const recent = [digest, ...(all[repository] ?? []).filter((d) => d !== digest)];
    const deleted: string[] = [];
    for (const old of recent.slice(SEEDS_KEPT)) if (await registry.deleteManifest(old)) deleted.push(old);
    // Whatever the registry kept is not asked about again: it is left to its own retention.
    all[repository] = recent.slice(0, SEEDS_KEPT);
    writeFileSync(file, JSON.stringify(all, null, 1) + '\n');
    return deleted;
  });
}

function readSeeds(file: string): Record<string, string[]> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string[]>) : {};
  } catch {
    return {};
  }
}
