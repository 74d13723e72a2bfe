import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CommandFailedError, run } from '../docker/runner';

/** `sha256:<hex>` of fetched bytes: what the lock file records as `integrity`. */
export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * Unpacks a feature's archive (a tar, gzipped or not: tar tells them apart) into `dir` through a
 * sibling temporary folder, so a half-unpacked feature is never taken from the cache. Throws a plain
 * error saying what tar found when the bytes are no archive.
 */
export async function unpackFeature(archive: Buffer, dir: string, signal?: AbortSignal): Promise<void> {
  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(`${dir}.partial-`);
  try {
    writeFileSync(join(staging, '.archive'), archive);
    mkdirSync(join(staging, 'feature'));
    try {
      await run(['tar', '-x', '--no-same-owner', '-f', join(staging, '.archive'), '-C', join(staging, 'feature')], { signal });
    } catch (error) {
      if (!(error instanceof CommandFailedError)) throw error;
      const said = error.stderr.split('\n').map((l) => l.trim()).filter(Boolean)[0];
      throw new Error(`it is not a tar archive of a feature${said ? ` (tar: ${said.replace(/^tar: /, '')})` : ''}`);
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(join(staging, 'feature'), dir);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
