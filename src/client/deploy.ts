import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { DeployInput } from '../activities/types';
import type { DeployProgress, DeploySummary, DeployWorkspacesInput, ProfileOverrides, StepProgress, WorkspaceProgress } from '../workflows/types';

export interface StartDeployOptions {
  sharedQueue: string;
  sourceQueue: string;
  workflowId?: string;
  profiles?: ProfileOverrides;
}

/** `deploy-<project folder>-<time>-<random>`: readable in the Web UI list, unique per run. */
export function deployWorkflowId(projectDir: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const name = basename(projectDir).toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return `deploy-${name}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export async function startDeploy(client: Client, input: DeployInput, options: StartDeployOptions): Promise<WorkflowHandle> {
  const workflowInput: DeployWorkspacesInput = { ...input, sourceTaskQueue: options.sourceQueue, profiles: options.profiles };
  return client.workflow.start('DeployWorkspaces', {
    taskQueue: options.sharedQueue,
    workflowId: options.workflowId ?? deployWorkflowId(input.projectDir),
    args: [workflowInput],
    memo: { projectDir: input.projectDir, count: input.count },
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

/** While an activity retries, the server knows its attempt and last failure; the workflow does not. */
async function enrichFromDescribe(handle: WorkflowHandle, steps: StepProgress[]): Promise<void> {
  const running = steps.filter((s) => s.state === 'running');
  if (running.length === 0) return;
  const { raw } = await handle.describe();
  for (const pending of raw.pendingActivities ?? []) {
    const step = running.find((s) => s.name === pending.activityType?.name);
    if (!step) continue;
    step.attempt = pending.attempt ?? undefined;
    const sent = uploadProgress(pending.heartbeatDetails?.payloads?.[0]?.data);
    if (sent) step.message = sent;
    if (pending.lastFailure?.message) step.message = `retrying: ${pending.lastFailure.message}${sent ? `; ${sent}` : ''}`;
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

/** What the server alone can say about a workflow when no worker answers queries. */
export async function describeStatus(client: Client, workflowId: string): Promise<{ status: string; pending: string[] }> {
  const description = await client.workflow.getHandle(workflowId).describe();
  const pending = (description.raw.pendingActivities ?? []).map(
    (a) => `${a.activityType?.name} (attempt ${a.attempt ?? 1}${a.lastFailure?.message ? `: ${a.lastFailure.message}` : ''})`,
  );
  return { status: description.status.name, pending };
}

export async function deployResult(client: Client, workflowId: string): Promise<DeploySummary> {
  return client.workflow.getHandle(workflowId).result();
}

export function webUiLink(workflowId: string, namespace = 'default', uiBase = 'http://127.0.0.1:8233'): string {
  return `${uiBase}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Deploys (and lifecycle runs) still open: a worker started now picks them up. */
export async function openWorkflows(client: Client, sharedQueue: string): Promise<{ workflowId: string; type: string }[]> {
  const found: { workflowId: string; type: string }[] = [];
  const query = `ExecutionStatus = "Running" AND TaskQueue = "${sharedQueue}"`;
  for await (const execution of client.workflow.list({ query })) {
    if (execution.type !== 'DeployWorkspace') found.push({ workflowId: execution.workflowId, type: execution.type });
  }
  return found;
}
