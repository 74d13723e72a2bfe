import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * What one build did to the local engine's names, so it can be undone: by the build itself when it
 * fails, and by the deploy's compensation (another process, maybe after a crash) when the push fails.
 *
 * Why a journal and not a build-id label on the images: a label that changes with every build
 * changes the image id too, so a redeploy of unchanged source would pull a "new" image and Compose
 * would recreate the developer's app container. Without it, the same source builds the same image id.
 */
export interface JournalEntry {
  /** The name the build writes (`--tag`). */
  image: string;
  /** The image that name held before this build, if any: an undo gives the name back to it. */
  previousImageId?: string;
  /** What the build made, once it is done: an undo leaves the name alone if it names anything else by then. */
  imageId?: string;
}

/** Journals of builds nobody undid (the build and its push succeeded) are removed after this long. */
const KEEP_MS = 7 * 24 * 3600 * 1000;

/** Machine-wide, because build ids are unique and the compensation knows only the id. */
export function journalDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'kamal-dev', 'builds');
}

function journalPath(buildId: string): string {
  return join(journalDir(), `${encodeURIComponent(buildId)}.json`);
}

export function readJournal(buildId: string): JournalEntry[] {
  try {
    return JSON.parse(readFileSync(journalPath(buildId), 'utf8')) as JournalEntry[];
  } catch {
    return [];
  }
}

/**
 * Recorded before the build writes the name, so a crash mid-build still leaves the way back. The
 * first record of a name wins: a retried build finds the name already moved by the attempt before.
 */
export function appendJournal(buildId: string, entry: JournalEntry): void {
  const entries = readJournal(buildId);
  if (!entries.some((e) => e.image === entry.image)) writeJournal(buildId, [...entries, entry]);
}

export function recordBuilt(buildId: string, image: string, imageId: string): void {
  writeJournal(buildId, readJournal(buildId).map((e) => (e.image === image ? { ...e, imageId } : e)));
}

export function removeJournal(buildId: string): void {
  rmSync(journalPath(buildId), { force: true });
}

function writeJournal(buildId: string, entries: JournalEntry[]): void {
  const path = journalPath(buildId);
  mkdirSync(journalDir(), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(entries, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

export function pruneJournals(now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(journalDir());
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(journalDir(), name);
    if (now - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? now) > KEEP_MS) rmSync(path, { force: true });
  }
}
