import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bringUp, LAB_DIR } from './lab';
import { allParts } from './parts';

/**
 * Brings the lab up once per jest run. On CI (CI=true) a missing part fails the run; on a laptop
 * the tests that need it skip with one line that says what is missing.
 */
export default async function globalSetup(): Promise<void> {
  mkdirSync(LAB_DIR, { recursive: true });
  // kamal-dev's machine-wide state (build journals) goes to a folder of this run, removed at the end;
  // the tests and every CLI they start inherit it.
  process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'kamal-dev-test-state-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { state, started } = await bringUp(allParts, log);
  (globalThis as Record<string, unknown>).__kamalDevLabStarted = started;
  const missing = Object.entries(state).filter(([, s]) => !s.ok);
  if (missing.length > 0 && process.env.CI === 'true') {
    throw new Error(`lab parts missing on CI: ${missing.map(([name, s]) => `${name} (${!s.ok && s.reason})`).join('; ')}`);
  }
}
