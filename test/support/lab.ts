import { LabState, readLabState } from '../lab/lab';

const reported = new Set<string>();

/**
 * `describe` when every named lab part is up, otherwise `describe.skip` with one line saying what is
 * missing. (On CI the global setup has already failed the run when a part is missing.)
 */
export function describeWithLab(parts: string[], name: string, fn: () => void): void {
  const state = readLabState();
  const missing = parts.filter((p) => !state[p]?.ok);
  if (missing.length === 0) return describe(name, fn);
  const line = `skipping "${name}": lab part(s) missing: ${missing.map((p) => `${p} (${reason(state, p)})`).join(', ')}`;
  if (!reported.has(line)) {
    reported.add(line);
    process.stderr.write(line + '\n');
  }
  describe.skip(name, fn);
}

/** What a part reported when it came up; throws when it is not up (call inside a describeWithLab). */
export function labInfo<T = Record<string, unknown>>(part: string): T {
  const s = readLabState()[part];
  if (!s?.ok) throw new Error(`lab part ${part} is not up`);
  return s.info as T;
}

function reason(state: LabState, part: string): string {
  const s = state[part];
  return s && !s.ok ? s.reason : 'not started';
}
