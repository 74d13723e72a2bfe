import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, unpackFeature } from './feature-archive';

export interface FetchedTarballFeature {
  /** The folder the tarball was unpacked into. */
  dir: string;
  /** sha256 of the tarball as downloaded: the lock file's `integrity`. */
  digest: string;
}

const FETCH_TIMEOUT_MS = 120_000;

/**
 * Fetches a feature published as a tarball (containers.dev features-distribution, "Directly
 * reference a tarball") as the reference CLI does: downloads it every time, checks it against the
 * lock file's pin when there is one, and keeps it unpacked under `cacheDir` by its sha256, so an
 * unchanged tarball is unpacked once. Throws plain errors saying what went wrong.
 */
export async function fetchTarballFeature(url: string, cacheDir: string, options: { pinned?: string; authorization?: string; signal?: AbortSignal } = {}): Promise<FetchedTarballFeature> {
  const timeout = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { 'user-agent': 'kamal-dev', ...(options.authorization ? { authorization: options.authorization } : {}) },
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new Error(`the server cannot be reached: ${reason(error)}`);
  }
  if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`);
  const tarball = Buffer.from(await response.arrayBuffer());
  if (tarball.length === 0) throw new Error('the server answered with nothing');
  const digest = sha256(tarball);
  if (options.pinned && digest !== options.pinned) throw new Error(`the tarball is now ${digest}, not the pinned ${options.pinned}`);
  const dir = join(cacheDir, digest.replace(':', '-'));
  if (!existsSync(join(dir, 'devcontainer-feature.json'))) await unpackFeature(tarball, dir, options.signal);
  return { dir, digest };
}

/** fetch() says "fetch failed"; its cause says why (ECONNREFUSED, ENOTFOUND, a certificate not trusted). */
function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError') return `no answer in ${FETCH_TIMEOUT_MS / 1000} s`;
  if (!cause?.message) return cause?.code ?? (error as Error).message;
  return cause.code && !cause.message.includes(cause.code) ? `${cause.code}: ${cause.message}` : cause.message;
}
