import type { Client } from '@temporalio/client';
import type { KamalDevRun, PipelineRun } from './measure';
import { ActivityTiming, workflowTiming } from './history';

const s = (seconds: number) => `${seconds.toFixed(1)}s`;

/** Where a kamal-dev deploy's time went: CLI outside the workflow, each parent step, each VM step (slowest VM and fastest). */
export async function kamalDevBreakdown(client: Client, label: string, run: KamalDevRun): Promise<string[]> {
  const parent = await workflowTiming(client, run.workflowId);
  const children = await Promise.all(run.vmWorkflowIds.map((id) => workflowTiming(client, id)));
  const before = (parent.startedAt - run.startedAt) / 1000;
  const after = run.seconds - before - parent.totalS;
  const lines = [
    `${label}: wall ${s(run.seconds)}, workflow ${s(parent.totalS)}; CLI before it (node, plan check, connect, start) ${s(before)}, after it (result, worker shutdown, exit) ${s(after)}`,
  ];
  for (const a of parent.activities) lines.push(`  ${activityLine(a.name, [a])}`);
  const names = [...new Set(children.flatMap((c) => c.activities.map((a) => a.name)))];
  for (const name of names) lines.push(`  ${activityLine(`vm ${name}`, children.flatMap((c) => c.activities.filter((a) => a.name === name)))}`);
  const covered = (c: (typeof children)[number]) => c.activities.reduce((sum, a) => sum + a.queuedS + a.ranS, 0);
  const gaps = children.map((c) => c.totalS - covered(c));
  if (children.length > 0) lines.push(`  vm workflow time outside activities (workflow tasks, child start): max ${s(Math.max(...gaps))}`);
  return lines;
}

/** One step over every VM that ran it: ran (slowest / fastest), time waiting in the task queue, retries. */
function activityLine(name: string, runs: ActivityTiming[]): string {
  const ran = runs.map((r) => r.ranS);
  const queued = Math.max(...runs.map((r) => r.queuedS));
  const retried = runs.filter((r) => r.attempts > 1).length;
  const spread = runs.length > 1 ? ` (fastest ${s(Math.min(...ran))})` : '';
  return `${name.padEnd(16)} ${s(Math.max(...ran)).padStart(7)}${spread}, queued max ${queued.toFixed(2)}s${retried ? `, ${retried} retried` : ''}`;
}

export function pipelineBreakdown(label: string, runs: PipelineRun[]): string[] {
  const lines = [`${label}: wall ${s(Math.max(...runs.map((r) => r.seconds)))}`];
  for (const [i, [name]] of runs[0].steps.entries()) {
    const took = runs.map((r) => r.steps[i][1]);
    const spread = runs.length > 1 ? ` (fastest ${s(Math.min(...took))})` : '';
    lines.push(`  ${name.padEnd(16)} ${s(Math.max(...took)).padStart(7)}${spread}`);
  }
  return lines;
}
