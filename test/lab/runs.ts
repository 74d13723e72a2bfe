import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, SHARED_DIR } from './lab';

/**
 * Every test run on this machine writes its start (and, when done, its end) here, so the leftover
 * check can tell whether another run shared the Docker engine with it: then a new object may be the
 * other run's, and only objects named with this run's id count as this run's.
 */
const RUNS_DIR = join(SHARED_DIR, 'runs');
const KEEP_MS = 24 * 3600_000;

interface RunRecord {
  start: number;
  end?: number;
}

export function recordRunStart(pid: number, start: number): void {
  mkdirSync(RUNS_DIR, { recursive: true });
  writeFileSync(join(RUNS_DIR, String(pid)), JSON.stringify({ start } satisfies RunRecord));
}

export function recordRunEnd(pid: number, start: number, end: number): void {
  mkdirSync(RUNS_DIR, { recursive: true });
  writeFileSync(join(RUNS_DIR, String(pid)), JSON.stringify({ start, end } satisfies RunRecord));
}

/** The pids of other runs whose time on the machine overlapped [start, now]. */
export function overlappingRuns(pid: number, start: number, now = Date.now()): number[] {
  let names: string[];
  try {
    names = readdirSync(RUNS_DIR);
  } catch {
    return [];
  }
  return names.map(Number).filter((other) => {
    if (other === pid || !Number.isInteger(other)) return false;
    const file = join(RUNS_DIR, String(other));
    const record = readRecord(file);
    if (!record) return false;
    // A run that died before writing its end was last seen when its file was written, or is still alive.
    const end = record.end ?? (isAlive(other) ? now : statSync(file).mtimeMs);
    if (end < now - KEEP_MS) rmSync(file, { force: true });
    return record.start <= now && end >= start;
  });
}

function readRecord(file: string): RunRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}
