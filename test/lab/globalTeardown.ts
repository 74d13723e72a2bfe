import { LabPart, tearDown } from './lab';

export default async function globalTeardown(): Promise<void> {
  const started = ((globalThis as Record<string, unknown>).__kamalDevLabStarted ?? []) as LabPart[];
  await tearDown(started, (line) => process.stderr.write(`${line}\n`));
}
