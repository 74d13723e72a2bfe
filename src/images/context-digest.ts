import { createHash, type Hash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join, relative, sep } from 'node:path';
import dockerignore from '@balena/dockerignore';

/**
 * A digest of a build context as the build sees it: every file .dockerignore lets through, by path,
 * mode and content (symlinks by their target), so the digest changes exactly when what BuildKit
 * would be sent changes. Content, not modification times: a checkout or a `touch` that leaves the
 * bytes alone does not rebuild.
 */
export function contextDigest(context: string, dockerfile: string, leftOut: string[] = []): string {
  return treeDigest(context, ignorePatterns(context, dockerfile), leftOut);
}

/**
 * The same digest of a folder, with the given .dockerignore patterns (none: all of it). `leftOut`
 * (absolute paths) are not read at all: kamal-dev's own .kamal/ folder, which every run rewrites
 * (log, state) and which holds secret values, which no key may be made of.
 */
export function treeDigest(root: string, patterns: string[] = [], leftOut: string[] = []): string {
  const hash = createHash('sha256');
  const ignores = dockerignore().add(patterns);
  const skipped = new Set(leftOut.map((path) => relative(root, path).split(sep).join('/')));
  // A directory is skipped whole unless an exception (`!pattern`) could take something back out of it.
  const mayPrune = !patterns.some((line) => line.trim().startsWith('!'));
  walk(root, root, hash, (path, isDir) => skipped.has(path) || (path !== '' && ignores.ignores(path) && (!isDir || mayPrune)));
  return hash.digest('hex');
}

/** BuildKit reads `<Dockerfile>.dockerignore` beside the Dockerfile first, then the context's `.dockerignore`. */
function ignorePatterns(context: string, dockerfile: string): string[] {
  const own = join(dockerfile, '..', `${basename(dockerfile)}.dockerignore`);
  const file = [own, join(context, '.dockerignore')].find((path) => existsSync(path));
  return file ? readFileSync(file, 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trim().startsWith('#')) : [];
}

function walk(root: string, dir: string, hash: Hash, skip: (path: string, isDir: boolean) => boolean): void {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    const path = relative(root, full).split(sep).join('/');
    const stat = lstatSync(full);
    if (skip(path, stat.isDirectory())) continue;
    if (stat.isDirectory()) {
      hash.update(`d ${path} ${(stat.mode & 0o7777).toString(8)}\0`);
      walk(root, full, hash, skip);
    } else if (stat.isSymbolicLink()) {
      hash.update(`l ${path} ${readlinkSync(full)}\0`);
    } else if (stat.isFile()) {
      hash.update(`f ${path} ${(stat.mode & 0o7777).toString(8)} ${stat.size}\0`);
      hash.update(readFileSync(full));
    }
  }
}
