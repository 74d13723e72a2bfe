import type { Client } from '@temporalio/client';
import { workflowTiming } from './history';
import type { KamalDevRun } from './measure';

export interface SeedFigures {
  /** pushWorkspaceSeed on the source: tar + gzip of the workspace, registry upload (0-ish when unchanged). */
  pushS: number;
  /** seedWorkspace on the slowest VM: pull by digest and unpack. */
  unpackS: number;
  /** uploadStack on the slowest VM: now only compose, pull and secrets files (the workspace comes with the seed). */
  uploadS: number;
}

/** Where the workspace seed's time went in one deploy, from its histories. */
export async function seedFigures(client: Client, run: KamalDevRun): Promise<SeedFigures> {
  const parent = await workflowTiming(client, run.workflowId);
  const children = await Promise.all(run.vmWorkflowIds.map((id) => workflowTiming(client, id)));
  const slowest = (name: string) => Math.max(0, ...children.flatMap((c) => c.activities.filter((a) => a.name === name).map((a) => a.ranS)));
  const pushS = parent.activities.filter((a) => a.name === 'pushWorkspaceSeed').reduce((sum, a) => sum + a.ranS, 0);
  return { pushS, unpackS: slowest('seedWorkspace'), uploadS: slowest('uploadStack') };
}
