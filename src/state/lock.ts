import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { KamalDevError } from '../errors';

const STALE_MS = 30_000;
const WAIT_MS = 15_000;

/** Runs fn while holding `${file}.lock` (created exclusively); a lock older than 30s is a crashed holder's. */
export async function withFileLock<T>(file: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (isStale(lock)) rmSync(lock, { force: true });
      else if (Date.now() > deadline) {
        throw new KamalDevError('state', `${lock} is held by another kamal-dev process`, {
          file: lock,
          description: 'Wait for the other command to finish; if none is running, delete the lock file.',
        });
      } else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function isStale(lock: string): boolean {
  try {
    return Date.now() - statSync(lock).mtimeMs > STALE_MS;
  } catch {
    return false;
  }
}
