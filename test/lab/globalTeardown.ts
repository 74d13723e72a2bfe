import { rmSync } from 'node:fs';
import { LabPart, tearDown } from './lab';

export default async function globalTeardown(): Promise<void> {
  if (process.env.XDG_STATE_HOME?.includes('kamal-dev-test-state-')) rmSync(process.env.XDG_STATE_HOME, { recursive: true, force: true });
  const started = ((globalThis as Record<string, unknown>).__kamalDevLabStarted ?? []) as LabPart[];
  await tearDown(started, (line) => process.stderr.write(`${line}\n`));
}
