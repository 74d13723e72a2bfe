import { posix } from 'node:path';
import type { SshSession } from '../ssh/session';
import type { FailedCommand } from '../domain/stack';

/** In the stack folder, beside the record of what ran: the failures of the last run of each hook. */
const FAILURES_FILE = '.devcontainer-failures.json';

/**
 * Records what the hooks that just ran did: each one's old failures are replaced by its new ones
 * (none when it succeeded); hooks that did not run keep theirs, as they still stand.
 */
export async function recordCommandOutcomes(session: SshSession, stackDir: string, ran: string[], failed: FailedCommand[]): Promise<void> {
  if (ran.length === 0 && failed.length === 0) return;
  const rerun = new Set([...ran, ...failed.map((f) => f.hook)]);
  const recorded = await readRecord(session, stackDir);
  // Nothing failed now, nor before: no file to write.
  if (!recorded && failed.length === 0) return;
  const next = [...(recorded ?? []).filter((f) => !rerun.has(f.hook)), ...failed];
  await session.upload(posix.join(stackDir, FAILURES_FILE), JSON.stringify(next));
}

/** The failures recorded on the VM; none when there is no record (or it is unreadable). */
export async function readCommandFailures(session: SshSession, stackDir: string): Promise<FailedCommand[]> {
  return (await readRecord(session, stackDir)) ?? [];
}

async function readRecord(session: SshSession, stackDir: string): Promise<FailedCommand[] | undefined> {
  const result = await session.exec(['cat', '--', posix.join(stackDir, FAILURES_FILE)]);
  if (result.exitCode !== 0) return undefined;
  try {
    const parsed = JSON.parse(result.stdout) as unknown;
    return Array.isArray(parsed) ? (parsed as FailedCommand[]) : [];
  } catch {
    return [];
  }
}
