import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../docker/runner';

/**
 * The image tag of a deploy: the short git sha of HEAD; with uncommitted changes `<sha>-dirty-<hash>`
 * where the hash covers the diff against HEAD and the untracked files (so two different dirty trees
 * never share a tag, and the same dirty tree gets the same one); outside git (or before the first
 * commit) the UTC time as `YYYYMMDDHHMMSS`. `--tag` replaces all of this.
 * `.kamal/` is not source: kamal-dev writes its log, keys and state there on every deploy (and never
 * uploads it), so it would otherwise make every deploy of an unchanged tree dirty with a new tag.
 */
export async function computeTag(projectDir: string, now: Date = new Date()): Promise<string> {
  const git = (args: string[]) => run(['git', '-C', projectDir, ...args]).then((r) => r.stdout);
  let sha: string;
  try {
    sha = (await git(['rev-parse', '--short=7', 'HEAD'])).trim();
  } catch {
    return timestampTag(now);
  }
  // Scoped to the project folder: in a monorepo, changes elsewhere do not change this project's tag.
  const source = ['--', '.', ':(exclude).kamal'];
  const status = await git(['status', '--porcelain', '--untracked-files=all', ...source]);
  if (status.trim() === '') return sha;
  const hash = createHash('sha256');
  hash.update(await git(['diff', 'HEAD', '--binary', ...source]));
  const untracked = (await git(['ls-files', '--others', '--exclude-standard', '-z', ...source])).split('\0').filter(Boolean).sort();
  for (const file of untracked) {
    hash.update(`\0${file}\0`);
    const path = join(projectDir, file);
    if (statSync(path, { throwIfNoEntry: false })?.isFile()) hash.update(readFileSync(path));
  }
  return `${sha}-dirty-${hash.digest('hex').slice(0, 8)}`;
}

export function timestampTag(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
