import { readLabState } from '../lab/lab';
import { LAB_OPTIONAL, missingParts } from '../lab/labRun';

/**
 * `describe` when every named lab part is up. Otherwise the tests fail with the missing parts and
 * why (the global setup has normally failed the run already), unless KAMAL_DEV_LAB=optional asks
 * for them to be skipped; then they are skipped with that reason, and counted at the end.
 */
export function describeWithLab(parts: string[], name: string, fn: () => void): void {
  const missing = missingParts(readLabState(), parts);
  if (!missing) return describe(name, fn);
  if (LAB_OPTIONAL) return describeSkipped(`KAMAL_DEV_LAB=optional and lab part(s) missing: ${missing}`, name, fn);
  describe(name, () => {
    it('has its lab parts', () => {
      throw new Error(`lab part(s) missing: ${missing} (KAMAL_DEV_LAB=optional skips these tests instead)`);
    });
  });
}

/** `describe` when `condition` holds, else the suite is skipped with `why`, counted at the end. */
export function describeWhen(condition: boolean, why: string, name: string, fn: () => void): void {
  if (condition) return describe(name, fn);
  describeSkipped(why, name, fn);
}

/**
 * The one way a suite skips: its name carries the reason, which test/support/skipReporter.js reads
 * to count the skipped tests by reason (a skip without one fails the run).
 */
function describeSkipped(why: string, name: string, fn: () => void): void {
  describe.skip(`${name} [skipped: ${why}]`, fn);
}

/** What a part reported when it came up; throws when it is not up (call inside a describeWithLab). */
export function labInfo<T = Record<string, unknown>>(part: string): T {
  const s = readLabState()[part];
  if (!s?.ok) throw new Error(`lab part ${part} is not up`);
  return s.info as T;
}
