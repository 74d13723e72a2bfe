import { Client, Connection, type WorkflowExecutionInfo } from '@temporalio/client';
import { readState, stateFilePath, updateState } from '../state/devState';
import type { DeploySummary } from '../workflows/types';
import { deploysOf } from './deploys';
import { answers } from './embedded';
import { connectOptions, type TemporalSettings } from './settings';
import { recordDeployOnSource } from './sourceRecords';

/**
 * Deploys of this project that completed while this machine was not following them (`deploy
 * --detach`, a closed laptop, a Ctrl-C that left the deploy to a worker elsewhere) are recorded in its
 * .kamal/ (src/client/sourceRecords.ts), oldest first, so a later one's records win. One visibility
 * query when there are none. Returns the ids recorded.
 *
 * The first look at a project records nothing and only sets the mark (deploys_recorded_until): what
 * completed before it may be long gone, and a host key of a destroyed VM would refuse the next VM on
 * its address. `deploy` and the lifecycle commands look before they start, so every deploy started
 * since is after the mark; `deploy` that follows its deploy to the end records it and moves the mark.
 */
export async function recordUnrecordedDeploys(client: Client, projectDir: string, identity: string): Promise<string[]> {
  const file = stateFilePath(projectDir);
  const since = readState(file).deploys_recorded_until;
  const completed = `${deploysOf(identity)} AND ExecutionStatus = "Completed"`;
  const found = await listAll(client, since === undefined ? completed : `${completed} AND CloseTime > "${since}"`);
  const closed = (execution: WorkflowExecutionInfo) => execution.closeTime?.getTime() ?? 0;
  const mark = (at: number) => markRecorded(projectDir, new Date(at));
  if (since === undefined) {
    // With none completed yet, the mark is the epoch: every deploy that completes later is recorded.
    await mark(Math.max(0, ...found.map(closed)));
    return [];
  }
  // The query's bound is to the millisecond the mark keeps; the server's clock may have finer ones.
  const fresh = found.filter((execution) => closed(execution) > Date.parse(since)).sort((a, b) => closed(a) - closed(b));
  for (const execution of fresh) {
    const summary = (await client.workflow.getHandle(execution.workflowId, execution.runId).result()) as DeploySummary;
    await recordDeployOnSource(projectDir, identity, summary);
    await mark(closed(execution));
  }
  return fresh.map((execution) => execution.workflowId);
}

/** After `deploy` has recorded the deploy it followed to its end: that one is not recorded again. */
export async function markRecorded(projectDir: string, closedAt: Date): Promise<void> {
  await updateState(stateFilePath(projectDir), (state) => {
    const since = state.deploys_recorded_until;
    if (since === undefined || Date.parse(since) < closedAt.getTime()) state.deploys_recorded_until = closedAt.toISOString();
  });
}

async function listAll(client: Client, query: string): Promise<WorkflowExecutionInfo[]> {
  const found: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list({ query })) found.push(execution);
  return found;
}

/**
 * `body` with a client of the configured server, or of the embedded one when it runs; nothing when
 * no server is configured and none runs here (then no deploy can have gone on without this machine).
 * For commands that otherwise need no Temporal (list, status, ssh): no search attributes, no worker.
 */
export async function withRunningServer<T>(settings: TemporalSettings, body: (client: Client) => Promise<T>): Promise<T | undefined> {
  const options = connectOptions(settings);
  if (!settings.address && !(await answers('127.0.0.1', Number(options.address.split(':')[1])))) return undefined;
  const connection = await Connection.connect({ ...options, connectTimeout: '5s' });
  try {
    return await body(new Client({ connection, namespace: settings.namespace }));
  } finally {
    await connection.close();
  }
}
