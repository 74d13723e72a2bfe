import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The project identity: an id made once per project checkout and kept in `.kamal/project_id`
 * together with the folder it was made for. Every VM carries it as a label and every provider
 * operation matches on it, so two projects (even two checkouts of one, or two folders that share a
 * name) never touch each other's VMs.
 *
 * A folder copied or cloned elsewhere (its `.kamal/` along) is a new checkout: its recorded folder
 * differs, so it gets an id of its own. A moved folder does too; its old VMs are then another
 * project's until `kamal-dev adopt` takes them over. That is the safe direction: a VM is never
 * destroyed because two checkouts believed it theirs.
 */
export function projectIdentity(projectDir: string): string {
  const folder = realpathSync(projectDir);
  const file = identityFile(projectDir);
  const recorded = readIdentity(file);
  if (recorded && recorded.path === folder) return recorded.id;
  const id = randomBytes(8).toString('hex');
  mkdirSync(join(projectDir, '.kamal'), { recursive: true });
  // Written aside and renamed: a reader never sees half a file.
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${id} ${folder}\n`);
  renameSync(partial, file);
  // Two processes that made an id at once: the one whose rename landed last wins, and both use it.
  return readIdentity(file)?.id ?? id;
}

export function identityFile(projectDir: string): string {
  return join(projectDir, '.kamal', 'project_id');
}

/** What .kamal/project_id of that folder says, without making one. */
export function readIdentity(file: string): { id: string; path: string } | undefined {
  try {
    const line = readFileSync(file, 'utf8').trim();
    const space = line.indexOf(' ');
    if (space <= 0) return undefined;
    return { id: line.slice(0, space), path: line.slice(space + 1) };
  } catch {
    return undefined;
  }
}
