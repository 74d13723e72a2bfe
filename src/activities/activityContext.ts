import { Context } from '@temporalio/activity';

/** The running activity, or undefined when called as a plain function (the CLI, scripts, tests). */
export function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function heartbeat(details?: unknown): void {
  currentActivity()?.heartbeat(details);
}

/** Long steps can be silent for minutes (apt downloading, a RUN step, compose waiting for a healthcheck). */
const QUIET_HEARTBEAT_MS = 5_000;

/**
 * Runs a long step that heartbeats whenever it calls `beat` (on each line of output, each progress
 * event) and, between calls, on a timer: a short heartbeat timeout then notices a dead worker, not a
 * quiet command. `details` gives what each heartbeat carries (Temporal stores it: never output lines).
 */
export async function heartbeating<T>(details: string | (() => unknown), work: (beat: () => void) => Promise<T>): Promise<T> {
  const beat = () => heartbeat(typeof details === 'function' ? details() : details);
  const timer = setInterval(beat, QUIET_HEARTBEAT_MS);
  try {
    return await work(beat);
  } finally {
    clearInterval(timer);
  }
}

/**
 * When this activity attempt will be cut off by its start-to-close timeout, less a margin (a quarter
 * of the timeout, at most 30 s) in which a step that gives up can still clean up and say why.
 * Outside an activity: undefined.
 */
export function attemptDeadline(): number | undefined {
  const context = currentActivity();
  if (!context) return undefined;
  const timeoutMs = context.info.startToCloseTimeoutMs;
  return Date.now() + timeoutMs - Math.min(30_000, timeoutMs / 4);
}
