import { createHash, type Hash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import dockerignore from '@balena/dockerignore';

/**
 * A digest of a build context as the build sees it: every file .dockerignore lets through, by path,
 * mode and content (symlinks by their target), so the digest changes exactly when what BuildKit
 * would be sent changes. Content, not modification times: a checkout or a `touch` that leaves the
 * bytes alone does not rebuild.
 *
 * Undefined past `budget`: BuildKit sends only what the Dockerfile copies, so reading a huge context
 * whole could take longer than the cached build it would save; such a build simply runs.
 */
export function contextDigest(context: string, dockerfile: string, leftOut: string[] = [], budget: DigestBudget = DEFAULT_BUDGET): string | undefined {
  return treeDigest(context, ignorePatterns(context, dockerfile), leftOut, budget);
}

export interface DigestBudget {
  bytes: number;
  files: number;
}

const DEFAULT_BUDGET: DigestBudget = { bytes: 256 * 1024 * 1024, files: 50_000 };

/**
 * The same digest of a folder, with the given .dockerignore patterns (none: all of it). `leftOut`
 * (absolute paths) are not read at all: kamal-dev's own .kamal/ folder, which every run rewrites
 * (log, state) and which holds secret values, which no key may be made of.
 */
export function treeDigest(root: string, patterns: string[] = [], leftOut: string[] = [], budget: DigestBudget = DEFAULT_BUDGET): string | undefined {
  const hash = createHash('sha256');
  const ignores = dockerignore().add(patterns);
  const skipped = new Set(leftOut.map((path) => relative(root, path).split(sep).join('/')));
  // A directory is skipped whole unless an exception (`!pattern`) could take something back out of it.
  const mayPrune = !patterns.some((line) => line.trim().startsWith('!'));
  const left = { ...budget };
  const within = walk(root, root, hash, left, (path, isDir) => skipped.has(path) || (path !== '' && ignores.ignores(path) && (!isDir || mayPrune)));
  return within ? hash.digest('hex') : undefined;
}

/** BuildKit reads `<Dockerfile>.dockerignore` beside the Dockerfile first, then the context's `.dockerignore`. */
function ignorePatterns(context: string, dockerfile: string): string[] {
  const own = join(dockerfile, '..', `${basename(dockerfile)}.dockerignore`);
  const file = [own, join(context, '.dockerignore')].find((path) => existsSync(path));
  return file ? readFileSync(file, 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trim().startsWith('#')) : [];
}

/** False once the budget is spent. */
function walk(root: string, dir: string, hash: Hash, left: DigestBudget, skip: (path: string, isDir: boolean) => boolean): boolean {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    const path = relative(root, full).split(sep).join('/');
    const stat = lstatSync(full);
    if (skip(path, stat.isDirectory())) continue;
    if (stat.isDirectory()) {
      hash.update(`d ${path} ${(stat.mode & 0o7777).toString(8)}\0`);
      if (!walk(root, full, hash, left, skip)) return false;
    } else if (stat.isSymbolicLink()) {
      hash.update(`l ${path} ${readlinkSync(full)}\0`);
    } else if (stat.isFile()) {
      left.files -= 1;
      left.bytes -= stat.size;
      if (left.files < 0 || left.bytes < 0) return false;
      hash.update(`f ${path} ${(stat.mode & 0o7777).toString(8)} ${stat.size}\0`);
      hash.update(readFileSync(full));
    }
  }
  return true;
}
