import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The lab: the real parts the integration and e2e suites run against (Docker engine, base images,
 * registries, Temporal server, VM image), brought up from nothing but the Debian mirror.
 * Each part is idempotent; what it reports is written to .lab/state.json for the tests to read.
 */
export interface LabPart {
  name: string;
  /** Parts that must be up first. */
  needs?: string[];
  up(): Promise<Record<string, unknown>>;
  /**
   * Stops the part. Called by the last test run on this machine that used it, and only when a lab
   * run created it (see markCreated); cached images stay: they are the lab's cache.
   */
  down?(): Promise<void>;
}

export type PartState = { ok: true; info: Record<string, unknown> } | { ok: false; reason: string };
export type LabState = Record<string, PartState>;

export const LAB_DIR = join(__dirname, '..', '..', '.lab');
const STATE_FILE = join(LAB_DIR, 'state.json');

/** Every Docker object the lab or a test creates carries this label, so cleanup can find it. */
export const LAB_LABEL = 'kamal-dev.lab';

/**
 * Machine-wide, because several runs (worktrees, a developer and a script) share one Docker engine
 * and fixed ports: each run holds a lease on the parts it uses, and the last one out tears down.
 */
export const SHARED_DIR = '/tmp/kamal-dev-lab';

/** A part calls this when it created its container or process (rather than finding one running). */
export function markCreated(part: string): void {
  mkdirSync(join(SHARED_DIR, part), { recursive: true });
  writeFileSync(join(SHARED_DIR, part, 'created'), String(process.pid));
}

function acquire(part: string): void {
  mkdirSync(join(SHARED_DIR, part, 'leases'), { recursive: true });
  writeFileSync(join(SHARED_DIR, part, 'leases', String(process.pid)), '');
}

/** Drops this run's lease; true when no live run holds one and a lab run created the part. */
function releaseLast(part: string): boolean {
  const leases = join(SHARED_DIR, part, 'leases');
  rmSync(join(leases, String(process.pid)), { force: true });
  const others = (existsSync(leases) ? readdirSync(leases) : []).filter((pid) => {
    if (isAlive(Number(pid))) return true;
    rmSync(join(leases, pid), { force: true });
    return false;
  });
  const created = join(SHARED_DIR, part, 'created');
  if (others.length > 0 || !existsSync(created)) return false;
  rmSync(created);
  return true;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function writeLabState(state: LabState): void {
  mkdirSync(LAB_DIR, { recursive: true });
  writeFileSync(STATE_FILE, JSON.stringify(state, null, 2));
}

export function readLabState(): LabState {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as LabState;
  } catch {
    return {};
  }
}

export async function bringUp(parts: LabPart[], log: (line: string) => void): Promise<{ state: LabState; started: LabPart[] }> {
  const state: LabState = {};
  // Parts read what earlier parts reported (addresses, credentials) from the state file.
  writeLabState(state);
  const started: LabPart[] = [];
  for (const part of parts) {
    const missing = (part.needs ?? []).filter((n) => !state[n]?.ok);
    if (missing.length > 0) {
      state[part.name] = { ok: false, reason: `needs ${missing.join(', ')}` };
      continue;
    }
    const t0 = Date.now();
    try {
      acquire(part.name);
      state[part.name] = { ok: true, info: await part.up() };
      writeLabState(state);
      started.push(part);
      log(`lab: ${part.name} up (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    } catch (error) {
      const reason = (error as Error).message.split('\n').slice(0, 6).join('\n');
      state[part.name] = { ok: false, reason };
      log(`lab: ${part.name} unavailable: ${reason}`);
    }
  }
  writeLabState(state);
  return { state, started };
}

/** Releases this run's leases; `force` (npm run lab -- down) stops every part whoever uses it. */
export async function tearDown(started: LabPart[], log: (line: string) => void, force = false): Promise<void> {
  for (const part of [...started].reverse()) {
    try {
      if (releaseLast(part.name) || force) await part.down?.();
    } catch (error) {
      log(`lab: ${part.name} teardown failed: ${(error as Error).message}`);
    }
  }
}
