import { Client, Connection } from '@temporalio/client';

interface Timestamp {
  seconds?: { toNumber(): number } | number | null;
  nanos?: number | null;
}

export interface ActivityTiming {
  name: string;
  /** Seconds from scheduled to picked up by a worker: the task queue's share. */
  queuedS: number;
  /** Seconds from picked up to completed (the last attempt when it retried). */
  ranS: number;
  attempts: number;
  /** Epoch milliseconds: asked for by the workflow, and completed. */
  scheduledAt: number;
  completedAt: number;
}

export interface WorkflowTiming {
  workflowId: string;
  /** Epoch milliseconds of the first and the last history event. */
  startedAt: number;
  closedAt: number;
  totalS: number;
  activities: ActivityTiming[];
}

const ms = (t: Timestamp | null | undefined): number =>
  t ? (typeof t.seconds === 'number' ? t.seconds : (t.seconds?.toNumber() ?? 0)) * 1000 + (t.nanos ?? 0) / 1e6 : 0;

/**
 * Step timings from a workflow's history, which keeps the same start and finish of every step as the
 * progress query (fetchProgress) and, unlike the query, needs no worker once the CLI has exited.
 */
export async function workflowTiming(client: Client, workflowId: string): Promise<WorkflowTiming> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Map<string, { name: string; at: number }>();
  const started = new Map<string, { at: number; attempt: number }>();
  const activities: ActivityTiming[] = [];
  for (const event of events) {
    const at = ms(event.eventTime as Timestamp);
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes) {
      scheduled.set(id, { name: event.activityTaskScheduledEventAttributes.activityType?.name ?? '?', at });
    }
    const start = event.activityTaskStartedEventAttributes;
    if (start) started.set(String(start.scheduledEventId), { at, attempt: start.attempt ?? 1 });
    const done = event.activityTaskCompletedEventAttributes;
    if (done) {
      const s = scheduled.get(String(done.scheduledEventId));
      const st = started.get(String(done.scheduledEventId));
      if (s && st) activities.push({ name: s.name, queuedS: (st.at - s.at) / 1000, ranS: (at - st.at) / 1000, attempts: st.attempt, scheduledAt: s.at, completedAt: at });
    }
  }
  const first = ms(events[0]?.eventTime as Timestamp);
  const last = ms(events[events.length - 1]?.eventTime as Timestamp);
  return { workflowId, startedAt: first, closedAt: last, totalS: (last - first) / 1000, activities };
}

export async function temporalClient(address: string): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection }), close: () => connection.close() };
}
