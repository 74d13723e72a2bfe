import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { DeployInput } from '../domain/deploy';
import { isImageActivityProgress } from '../images/progress';
import { refuseWhenLocked } from './lock';
import type { DeployPhase, DeployProgress, DeployWorkspacesInput, ProfileOverrides, StepProgress, WorkspaceProgress } from '../workflows/types';
import { PROJECT_ATTRIBUTE } from './searchAttributes';

export interface StartDeployOptions {
  sharedQueue: string;
  sourceQueue: string;
  workflowId?: string;
  profiles?: ProfileOverrides;
  /** The project identity of the locally resolved plan: the deploy takes its lock, and `kamal-dev deploys` lists the deploys that carry it. */
  identity: string;
}

/** `deploy-<project folder>-<time>-<random>`: readable in the Web UI list, unique per run. */
export function deployWorkflowId(projectDir: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const name = basename(projectDir).toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return `deploy-${name}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Refused (KamalDevError 'busy') while another operation runs on the project's VMs. */
export async function startDeploy(client: Client, input: DeployInput, options: StartDeployOptions): Promise<WorkflowHandle> {
  await refuseWhenLocked(client, options.identity, 'deploy');
  const workflowInput: DeployWorkspacesInput = { ...input, sourceTaskQueue: options.sourceQueue, profiles: options.profiles, identity: options.identity };
  return client.workflow.start('DeployWorkspaces', {
    taskQueue: options.sharedQueue,
    workflowId: options.workflowId ?? deployWorkflowId(input.projectDir),
    args: [workflowInput],
    memo: { projectDir: input.projectDir, count: input.count },
    ...(options.identity ? { typedSearchAttributes: [{ key: PROJECT_ATTRIBUTE, value: options.identity }] } : {}),
    staticSummary: `kamal-dev deploy of ${basename(input.projectDir)}: ${input.count} VM(s)`,
  });
}

/** The deploy's own progress plus each child's steps; attempts and last errors of retrying activities come from describe(). */
export async function fetchProgress(client: Client, workflowId: string): Promise<DeployProgress> {
  const parent = client.workflow.getHandle(workflowId);
  const progress = await parent.query<DeployProgress>('progress');
  await enrichFromDescribe(parent, progress.steps);
  progress.vms = await Promise.all(progress.vms.map((vm) => childProgress(client, vm)));
  return progress;
}

async function childProgress(client: Client, vm: WorkspaceProgress): Promise<WorkspaceProgress> {
  if (vm.state === 'pending') return vm;
  const handle = client.workflow.getHandle(vm.workflowId);
  try {
    const child = await handle.query<WorkspaceProgress>('progress');
    await enrichFromDescribe(handle, child.steps);
    return { ...vm, ...child, state: vm.state === 'running' ? child.state : vm.state };
  } catch {
    return vm; // not started yet, or its worker is busy: the parent's view is enough for this refresh
  }
}

type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;

/**
 * What the server knows and the workflow does not: a retrying activity's attempt and last failure,
 * and a running build's or push's progress from its last heartbeat (sent by whichever worker runs it).
 */
async function enrichFromDescribe(handle: WorkflowHandle, steps: StepProgress[]): Promise<void> {
  const running = steps.filter((s) => s.state === 'running');
  if (running.length === 0) return;
  const { raw } = await handle.describe();
  for (const pending of raw.pendingActivities ?? []) {
    const step = running.find((s) => s.name === pending.activityType?.name);
    if (step) Object.assign(step, fromPending(pending));
  }
}

/** uploadStack's heartbeat details (`{ step: 'upload', bytes, totalBytes }`, JSON) as a progress line. */
export function uploadProgress(data: Uint8Array | null | undefined): string | undefined {
  if (!data) return undefined;
  try {
    const details = JSON.parse(Buffer.from(data).toString()) as { step?: string; bytes?: number; totalBytes?: number };
    if (details.step !== 'upload' || typeof details.bytes !== 'number') return undefined;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    return `sent ${mb(details.bytes)}${details.totalBytes ? ` of ${mb(details.totalBytes)}` : ''} MB`;
  } catch {
    return undefined;
  }
}

function fromPending(pending: PendingActivity): Partial<StepProgress> {
  const live = heartbeatOf(pending);
  const sent = uploadProgress(pending.heartbeatDetails?.payloads?.[0]?.data);
  const message = [pending.lastFailure?.message && `retrying: ${pending.lastFailure.message}`, sent].filter(Boolean).join('; ');
  return {
    attempt: pending.attempt ?? undefined,
    ...(message ? { message } : {}),
    ...(live ? { live } : {}),
  };
}

function heartbeatOf(pending: PendingActivity): StepProgress['live'] {
  const payload = pending.heartbeatDetails?.payloads?.[0];
  if (!payload) return undefined;
  try {
    const details = defaultPayloadConverter.fromPayload(payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0]);
    return isImageActivityProgress(details) ? details : undefined;
  } catch {
    return undefined;
  }
}

/** What the server alone can say about a deploy while no worker answers queries: its phase and running activities. */
export async function describeProgress(client: Client, workflowId: string): Promise<DeployProgress> {
  const description = await client.workflow.getHandle(workflowId).describe();
  const phase = description.searchAttributes?.KamalDevPhase?.[0];
  const steps: StepProgress[] = (description.raw.pendingActivities ?? []).map((pending) => ({
    name: pending.activityType?.name ?? 'activity',
    state: 'running',
    ...fromPending(pending),
  }));
  return { workflowId, phase: (typeof phase === 'string' ? phase : 'plan') as DeployPhase, steps, vms: [], waitingForWorker: true };
}

export function webUiLink(workflowId: string, namespace = 'default', uiBase = 'http://127.0.0.1:8233'): string {
  return `${uiBase}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Deploys (and lifecycle runs) still open: a worker started now picks them up. */
export async function openWorkflows(client: Client, sharedQueue: string): Promise<{ workflowId: string; type: string }[]> {
  const found: { workflowId: string; type: string }[] = [];
  const query = `ExecutionStatus = "Running" AND TaskQueue = "${sharedQueue}"`;
  for await (const execution of client.workflow.list({ query })) {
    // Children and locks run with the operation they belong to.
    if (execution.type !== 'DeployWorkspace' && execution.type !== 'OperationLock') found.push({ workflowId: execution.workflowId, type: execution.type });
  }
  return found;
}
