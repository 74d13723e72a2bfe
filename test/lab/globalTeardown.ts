import { rmSync } from 'node:fs';
import { labRun, readable, unfinishedRunGuard } from './labRun';
import { tearDown } from './lab';
import { describeLeftovers, dockerObjects, leftovers } from './leftovers';
import { otherRuns, recordRunEnd } from './runs';

/**
 * The run's last check: Docker objects that the tests made and left fail the run, by name. Then the
 * lab is released (stopped by the last run out) and the run's state folder removed.
 */
export default async function globalTeardown(): Promise<void> {
  const run = labRun.get();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let left: string | undefined;
  try {
    if (run.before.length > 0) {
      const others = otherRuns(process.pid, run.start, run.othersAtStart);
      const found = leftovers(run.before, await dockerObjects(), { id: process.pid, alone: others.length === 0 });
      if (found.length > 0) left = describeLeftovers(found);
      if (others.length > 0) log(`leftover check: other test runs shared the engine (pid ${others.join(', ')}): only objects named with ${process.pid} were checked`);
    }
  } finally {
    recordRunEnd(process.pid, run.start, Date.now());
    if (process.env.XDG_STATE_HOME?.includes('kamal-dev-test-state-')) rmSync(process.env.XDG_STATE_HOME, { recursive: true, force: true });
    await tearDown(run.started, log);
    unfinishedRunGuard.disarm();
  }
  if (left) throw readable(`the tests left Docker objects behind: ${left}`);
}
