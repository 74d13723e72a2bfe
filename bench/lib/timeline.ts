import type { Client } from '@temporalio/client';
import { workflowTiming } from './history';
import type { KamalDevRun } from './measure';

/** One activity of a deploy, from the moment its workflow asked for it to its completion (epoch ms). */
export interface Span {
  /** `source` for the parent's steps, else the VM's workflow id's last part. */
  on: string;
  name: string;
  from: number;
  to: number;
}

/** What a VM does before it needs the built images (src/workflows/images.ts). */
const PREPARATION = new Set(['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'pullImages']);
const IMAGE_STEPS = new Set(['buildImages', 'checkImages', 'pushImages']);

export async function deploySpans(client: Client, run: KamalDevRun): Promise<Span[]> {
  const timings = await Promise.all([run.workflowId, ...run.vmWorkflowIds].map((id) => workflowTiming(client, id)));
  return timings.flatMap((t, i) =>
    t.activities.map((a) => ({ on: i === 0 ? 'source' : t.workflowId.split('/').at(-1)!, name: a.name, from: a.scheduledAt, to: a.completedAt })),
  );
}

/** Every step of the deploy, in the order they started, in seconds from the CLI's start. */
export function timelineLines(label: string, run: KamalDevRun, spans: Span[]): string[] {
  const at = (ms: number) => ((ms - run.startedAt) / 1000).toFixed(1).padStart(6);
  const lines = [`timeline of ${label} (seconds from the CLI's start; wall ${run.seconds.toFixed(1)}s):`];
  for (const span of [...spans].sort((a, b) => a.from - b.from)) lines.push(`  ${at(span.from)} ${at(span.to)}  ${span.on.padEnd(18)} ${span.name}`);
  return lines;
}

export interface Overlap {
  /** Seconds of the VM's preparation that ran while the source built and pushed (the least of all VMs). */
  seconds: number;
  /** Those seconds over the preparation's own (the least of all VMs): 1 is all of it hidden behind the build. */
  fraction: number;
  /** Longest a VM, prepared, waited for the push before composeUp started. */
  waitedS: number;
}

export function overlapOf(spans: Span[]): Overlap {
  const images = spans.filter((s) => s.on === 'source' && IMAGE_STEPS.has(s.name));
  const window = { from: Math.min(...images.map((s) => s.from)), to: Math.max(...images.map((s) => s.to)) };
  const vms = [...new Set(spans.filter((s) => s.on !== 'source').map((s) => s.on))];
  const perVm = vms.map((vm) => {
    const prepared = spans.filter((s) => s.on === vm && PREPARATION.has(s.name));
    const inWindow = prepared.reduce((sum, s) => sum + Math.max(0, Math.min(s.to, window.to) - Math.max(s.from, window.from)), 0);
    const own = prepared.reduce((sum, s) => sum + (s.to - s.from), 0);
    const up = spans.find((s) => s.on === vm && s.name === 'composeUp');
    const waited = up && prepared.length ? up.from - Math.max(...prepared.map((s) => s.to)) : 0;
    return { seconds: inWindow / 1000, fraction: own > 0 ? inWindow / own : 0, waitedS: waited / 1000 };
  });
  return {
    seconds: Math.min(...perVm.map((v) => v.seconds)),
    fraction: Math.min(...perVm.map((v) => v.fraction)),
    waitedS: Math.max(...perVm.map((v) => v.waitedS)),
  };
}
