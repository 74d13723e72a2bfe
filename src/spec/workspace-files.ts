import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, lstatSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../docker/runner';

/** Patterns (gitignore syntax) of files that stay off the VMs, in the project's root, besides .gitignore. */
export const WORKSPACE_IGNORE_FILE = '.kamal-dev-ignore';

/** Never on a VM, whatever the ignore files say: secrets, keys and kamal-dev's own state. */
const ALWAYS_EXCLUDED = ['/.kamal/'];

export interface WorkspaceSelection {
  /** Paths relative to the project folder (files and symlinks; `.git` as one folder when included). */
  paths: string[];
  bytes: number;
}

/**
 * What of the project goes to a VM: every file that git would not ignore (each folder's .gitignore,
 * also outside a git checkout), less the `exclude` patterns and .kamal-dev-ignore; `.git` only when
 * asked. Git decides, through a scratch repository over the folder: the project's own index and
 * the user's global excludes play no part, so the same tree gives the same copy everywhere.
 * (Without git on PATH the runner says so: a prerequisite error.)
 */
export async function workspaceSelection(source: string, options: { exclude: string[]; includeGit?: boolean }): Promise<WorkspaceSelection> {
  const scratch = mkdtempSync(join(tmpdir(), 'kamal-dev-workspace-'));
  try {
    await run(['git', 'init', '-q', '--bare', scratch]);
    const own = existsSync(join(source, WORKSPACE_IGNORE_FILE)) ? readFileSync(join(source, WORKSPACE_IGNORE_FILE), 'utf8') : '';
    writeFileSync(join(scratch, 'info', 'exclude'), [...options.exclude, ...ALWAYS_EXCLUDED, own].join('\n') + '\n');
    const listed = await run(['git', '-c', 'core.excludesFile=/dev/null', '-c', 'core.quotePath=false', `--git-dir=${scratch}`, `--work-tree=${source}`, 'ls-files', '-z', '--others', '--exclude-standard']);
    const paths = listed.stdout.split('\0').filter((p) => p && p !== '.kamal' && !p.startsWith('.kamal/'));
    let bytes = paths.reduce((sum, path) => sum + (lstatSync(join(source, path), { throwIfNoEntry: false })?.size ?? 0), 0);
    if (options.includeGit && existsSync(join(source, '.git'))) {
      paths.push('.git');
      bytes += folderBytes(join(source, '.git'));
    }
    return { paths, bytes };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function folderBytes(dir: string): number {
  let sum = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    sum += entry.isDirectory() ? folderBytes(path) : statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  }
  return sum;
}
