import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/** Workflows and VM activities: any worker on any machine may take them. */
export const DEFAULT_SHARED_QUEUE = 'kamal-dev';

/** Plan, build and push need the project's files: their queue is bound to this machine and folder. */
export function sourceTaskQueue(projectDir: string, host: string = hostname()): string {
  const hash = createHash('sha256').update(`${host}\0${resolve(projectDir)}`).digest('hex').slice(0, 12);
  return `kamal-dev-source-${hash}`;
}
