import type { LabPart, LabState } from './lab';
import type { DockerObject } from './leftovers';

/** Set by a person who wants the suites to run without some lab part: its tests skip, counted. */
export const LAB_OPTIONAL = process.env.KAMAL_DEV_LAB === 'optional';

/** What the global setup hands the global teardown (both run in jest's main process). */
interface LabRun {
  started: LabPart[];
  /** When the run began (ms since the epoch). */
  start: number;
  /** The Docker objects there were once the lab was up. */
  before: DockerObject[];
  /** Other test runs that held lab leases when this one began. */
  othersAtStart: number[];
}

const KEY = '__kamalDevLabRun';
const store = globalThis as Record<string, unknown>;

export const labRun = {
  set(run: LabRun): void {
    store[KEY] = run;
  },
  get(): LabRun {
    return (store[KEY] as LabRun | undefined) ?? { started: [], start: Date.now(), before: [], othersAtStart: [] };
  },
};

/** The parts that are not up, each with its reason; undefined when every part is up. */
export function missingParts(state: LabState, parts: string[] = Object.keys(state)): string | undefined {
  const missing = parts.filter((part) => !state[part]?.ok);
  if (missing.length === 0) return undefined;
  return missing.map((part) => `${part} (${reasonOf(state, part)})`).join(', ');
}

function reasonOf(state: LabState, part: string): string {
  const s = state[part];
  return s && !s.ok ? s.reason.split('\n')[0] : 'not started';
}

/** An error for a failed global hook: Jest prints its stack, and this message says all there is. */
export function readable(message: string): Error {
  const error = new Error(message);
  error.stack = message;
  return error;
}

/**
 * A run whose process runs out of work before the global teardown (an await on something that can
 * never settle) would end with exit 0 and no test run: such a run fails instead, saying so.
 * Armed by the global setup, disarmed at the end of the teardown.
 */
function endedEarly(): void {
  process.exitCode = 1;
  process.stderr.write('the test run ended before its global teardown (nothing was left to wait for): it fails, whatever ran\n');
}

export const unfinishedRunGuard = {
  arm: () => process.once('beforeExit', endedEarly),
  disarm: () => process.off('beforeExit', endedEarly),
};
