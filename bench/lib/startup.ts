import type { Client } from '@temporalio/client';
import { workflowTiming } from './history';
import type { KamalDevRun } from './measure';

/**
 * Seconds from spawning `kamal-dev deploy` to its workflow's first history event: the CLI's own time
 * (Node's start, loading modules, the plan check, connecting, the in-process worker, the start call).
 * `kamal-dev deploy --verbose` says how it splits.
 */
export async function cliStartSeconds(client: Client, run: KamalDevRun): Promise<number> {
  return ((await workflowTiming(client, run.workflowId)).startedAt - run.startedAt) / 1000;
}
