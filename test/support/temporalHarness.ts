import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import type { Activities } from '../../src/activities/types';
import { ensureSearchAttributes } from '../../src/client/searchAttributes';
import { createWorker, type KamalDevWorker } from '../../src/worker';
import { labInfo } from './lab';
import { withWorkflowCoverage } from './workflowCoverage';

export const HISTORIES_DIR = join(__dirname, '..', 'fixtures', 'histories');

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflow code bundled once per test file (bundling takes seconds). */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode(withWorkflowCoverage({ workflowsPath: require.resolve('../../src/workflows'), logger: quietLogger }));
  return bundle;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

export interface Harness {
  address: string;
  client: Client;
  connection: Connection;
  native: NativeConnection;
  close(): Promise<void>;
}

export async function connectLab(): Promise<Harness> {
  const { address } = labInfo<{ address: string }>('temporal');
  const connection = await Connection.connect({ address });
  await ensureSearchAttributes(connection, 'default');
  const native = await NativeConnection.connect({ address });
  return {
    address,
    client: new Client({ connection }),
    connection,
    native,
    close: async () => {
      await native.close();
      await connection.close();
    },
  };
}

let counter = 0;

/** Fresh queue names per test, so no other test's (or engineer's) worker takes the tasks. */
export function queues(prefix: string): { shared: string; source: string } {
  const id = `${prefix}-${process.pid}-${Date.now()}-${counter++}`;
  return { shared: `${id}-shared`, source: `${id}-source` };
}

/** A project identity of its own, so runs of this test (or in another worktree) never share a lock. */
export function testIdentity(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now()}-${counter++}`;
}

export async function startWorker(h: Harness, taskQueues: { shared: string; source: string }, activities: Activities): Promise<KamalDevWorker> {
  return createWorker({ connection: h.native, taskQueues, activities, workflowCode: { workflowBundle: await workflowBundle() }, shutdownGraceTime: '1s' });
}

/** With KAMAL_DEV_RECORD_HISTORIES=1, writes the run's history where the replay test reads it. */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.KAMAL_DEV_RECORD_HISTORIES !== '1') return;
  mkdirSync(HISTORIES_DIR, { recursive: true });
  const history = await handle.fetchHistory();
  // The workflow id is kept: child ids derive from it, so a replay under another id would diverge.
  const fixture = { workflowId: handle.workflowId, history: JSON.parse(historyToJSON(history)) };
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), JSON.stringify(fixture, null, 1) + '\n');
}
