import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive, SHARED_DIR } from './lab';

/**
 * Every test run on this machine writes its start (and, when done, its end) here, so the leftover
 * check can tell whether another run shared the Docker engine with it: then a new object may be the
 * other run's, and only objects named with this run's id count as this run's. Runs that predate this
 * record (or the benchmark) still show as lab lease holders (leaseHolders).
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

/** Other test runs that shared the machine with this one: lease holders then and now, recorded runs. */
export function otherRuns(pid: number, start: number, holdersAtStart: number[]): number[] {
  return [...new Set([...holdersAtStart, ...leaseHolders(pid), ...overlappingRuns(pid, start)])];
}

/** The pids of other runs whose recorded time on the machine overlapped [start, now]. */
function overlappingRuns(pid: number, start: number, now = Date.now()): number[] {
  return safeReaddir(RUNS_DIR).map(Number).filter((other) => {
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

/** Live processes other than `pid` that hold a lease on a lab part right now. */
export function leaseHolders(pid: number): number[] {
  const holders = new Set<number>();
  for (const part of safeReaddir(SHARED_DIR)) {
    for (const holder of safeReaddir(join(SHARED_DIR, part, 'leases')).map(Number)) {
      if (holder !== pid && Number.isInteger(holder) && isAlive(holder)) holders.add(holder);
    }
  }
  return [...holders];
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
