import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_OPTIONAL, labRun, missingParts, readable, unfinishedRunGuard } from './labRun';
import { bringUp, LAB_DIR, tearDown } from './lab';
import { dockerObjects } from './leftovers';
import { allParts } from './parts';
import { leaseHolders, recordRunEnd, recordRunStart } from './runs';

/**
 * Brings the lab up once per jest run. A missing part fails the run, saying which and why, unless
 * KAMAL_DEV_LAB=optional asks to skip the tests that need it (test/support/skipReporter.js counts
 * them). Then takes the snapshot of Docker objects that the leftover check compares with.
 */
export default async function globalSetup(): Promise<void> {
  const start = Date.now();
  unfinishedRunGuard.arm();
  recordRunStart(process.pid, start);
  mkdirSync(LAB_DIR, { recursive: true });
  // kamal-dev's machine-wide state (build journals) goes to a folder of this run, removed at the end;
  // the tests and every CLI they start inherit it.
  process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'kamal-dev-test-state-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { state, started } = await bringUp(allParts, log);
  const missing = missingParts(state);
  if (missing && !LAB_OPTIONAL) {
    unfinishedRunGuard.disarm();
    await tearDown(started, log);
    rmSync(process.env.XDG_STATE_HOME, { recursive: true, force: true });
    recordRunEnd(process.pid, start, Date.now());
    throw readable(
      `lab part(s) missing: ${missing}\n` +
        'The integration and e2e suites run against every lab part (./scripts/setup installs what they need).\n' +
        'KAMAL_DEV_LAB=optional runs them anyway, skipping (and counting) the tests whose parts are missing.',
    );
  }
  if (missing) log(`lab: KAMAL_DEV_LAB=optional: the tests that need ${missing} are skipped`);
  labRun.set({ started, start, before: state.docker?.ok ? await dockerObjects() : [], othersAtStart: leaseHolders(process.pid) });
}
