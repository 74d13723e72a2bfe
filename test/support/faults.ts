// Helpers of the fault suite: the built CLI as a killable child process, the deploy's progress and
// history read from the lab's Temporal server, and what a deployment left on this machine.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { fetchProgress } from '../../src/client/deploy';
import type { DeployProgress, DeploySummary } from '../../src/workflows/types';
import { sh } from '../lab/exec';
import { labInfo } from './lab';
import { CliResult, exampleProject, removeDeploymentLeftovers } from './kamal-dev';

const BIN = join(__dirname, '..', '..', 'bin', 'kamal-dev');

/**
 * A service name of this run: VM names, images and task queue follow it, so two runs of the suite on
 * one machine (a developer's and a CI check) never take each other's VMs or tasks.
 */
export function faultService(name: string): string {
  return `${name}-${process.pid.toString(36)}`;
}

/** The environment of a deploy in the lab: its images, its registry image, its Temporal server. */
export function labEnv(postgresRegistry: 'localhost:5555' | 'localhost:5556' = 'localhost:5555'): NodeJS.ProcessEnv {
  return {
    BASE_IMAGE: 'debian:bookworm-slim',
    POSTGRES_IMAGE: `${postgresRegistry}/lab/postgres:15`,
    KAMAL_DEV_LOCAL_REGISTRY_IMAGE: 'kamal-dev-lab/registry:latest',
    TEMPORAL_ADDRESS: labInfo<{ address: string }>('temporal').address,
  };
}

/**
 * The Rails-like example under its own service name and task queue (so no other test's worker ever
 * takes its tasks), with `config` appended to its config/dev.yml.
 */
export function faultProject(service: string, config = '', files: Record<string, string> = {}): string {
  return exampleProject('rails', {
    'config/dev.yml': [`service: ${service}`, 'image: {devcontainer: .devcontainer/devcontainer.json}', 'build: {secrets: [RAILS_MASTER_KEY]}', config].join('\n'),
    '.kamal/secrets': 'RAILS_MASTER_KEY=fault-suite-master-key\nPOSTGRES_PASSWORD=fault-suite-pg\n',
    ...files,
  });
}

/** Writes path -> content under dir (secrets files mode 600). */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content, { mode: path.includes('secrets') ? 0o600 : 0o644 });
  }
}

/** `temporal:` for a test: its own queue, and timeouts short enough that a dead worker's step is retried soon. */
export function temporalSection(service: string, timeouts: string): string {
  return `temporal:\n  task_queue: ${service}-queue\n  timeouts:\n${timeouts}`;
}

export interface RunningCli {
  child: ChildProcess;
  /** The workflow id, once the CLI printed it. */
  workflowId: Promise<string>;
  done: Promise<CliResult>;
}

/** The CLI in its own process group, so a kill takes its worker and every command it started. */
export function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): RunningCli {
  const child = spawn(BIN, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let announce: (id: string) => void = () => undefined;
  let gaveUp: (error: Error) => void = () => undefined;
  const workflowId = new Promise<string>((resolve, reject) => ((announce = resolve), (gaveUp = reject)));
  workflowId.catch(() => undefined);
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    const id = /(?:started|following) (\S+):/.exec(stderr)?.[1];
    if (id) announce(id);
  });
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, signal) => {
      gaveUp(new Error(`kamal-dev ${args.join(' ')} exited (${code ?? signal}) before starting a deploy:\n${stderr}`));
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    }),
  );
  return { child, workflowId, done };
}

/** SIGKILL to the CLI's whole process group: its in-process worker dies mid-step, as in a crash. */
export async function killCli(cli: RunningCli): Promise<void> {
  process.kill(-cli.child.pid!, 'SIGKILL');
  await cli.done;
}

export async function temporalClient(): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: labInfo<{ address: string }>('temporal').address });
  return { client: new Client({ connection }), close: () => connection.close() };
}

/** Whether `step` runs now, in the deploy itself or in any of its VMs; false while no worker answers. */
export async function stepRunning(client: Client, workflowId: string, step: string): Promise<boolean> {
  return (await runningSteps(client, workflowId)).includes(step);
}

/** The steps of a deploy (its own and its VMs') that run now; none while its progress cannot be read. */
export async function runningSteps(client: Client, workflowId: string): Promise<string[]> {
  let progress: DeployProgress;
  try {
    progress = await fetchProgress(client, workflowId);
  } catch {
    return [];
  }
  return [...progress.steps, ...progress.vms.flatMap((vm) => vm.steps)].filter((s) => s.state === 'running').map((s) => s.name);
}

/**
 * The activities of a deploy (its own and its VMs') that a live worker runs now: started at or after
 * `since`, the moment that worker came up. Read from the server, not the workflow's progress query:
 * right after a worker is killed, queries wait for its unfinished workflow task to time out, and a
 * step can come and go unseen meanwhile. An attempt started before `since` belongs to a dead worker.
 */
export async function liveActivities(client: Client, workflowId: string, since: Date): Promise<string[]> {
  const STARTED = 2 as temporal.api.enums.v1.PendingActivityState; // PENDING_ACTIVITY_STATE_STARTED
  const describe = (id: string) => client.workflow.getHandle(id).describe().then(({ raw }) => raw);
  const parent = await describe(workflowId);
  const children = await Promise.all((parent.pendingChildren ?? []).map((child) => describe(child.workflowId!).catch(() => undefined)));
  return [parent, ...children]
    .flatMap((raw) => raw?.pendingActivities ?? [])
    .filter((activity) => activity.state === STARTED && (optionalTsToMs(activity.lastStartedTime) ?? 0) >= since.getTime())
    .map((activity) => activity.activityType?.name ?? '');
}

export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, intervalMs = 150): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return false;
}

/** The highest attempt number of each activity type in a workflow's history (from its recorded starts). */
export async function activityAttempts(client: Client, workflowId: string): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, string>();
  const attempts: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s) scheduled.set(String(event.eventId), s.activityType?.name ?? '');
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const name = scheduled.get(String(started.scheduledEventId)) ?? '';
      attempts[name] = Math.max(attempts[name] ?? 0, started.attempt ?? 1);
    }
  }
  return attempts;
}

export interface FaultDeployment {
  /** The project folder `makeProject` returned. */
  readonly dir: string;
  readonly client: Client;
  /** The CLI the test runs now: killed afterwards if it still runs, its deploy ended. */
  cli?: RunningCli;
}

/**
 * The before and after of one fault scenario (call it in a describe): no leftovers of `service`
 * before (a run that died) or after, a client of the lab's Temporal server, the project folder.
 */
export function faultDeployment(service: string, makeProject: () => string): FaultDeployment {
  const state = {} as { dir: string; client: Client; cli?: RunningCli };
  let temporal: { client: Client; close(): Promise<void> } | undefined;
  beforeAll(async () => {
    await removeDeploymentLeftovers(service);
    temporal = await temporalClient();
    state.client = temporal.client;
    state.dir = makeProject();
  });
  afterAll(async () => {
    const { cli } = state;
    if (cli && cli.child.exitCode === null) await killCli(cli);
    if (temporal) {
      await terminateIfRunning(temporal.client, await cli?.workflowId.catch(() => undefined));
      await temporal.close();
    }
    await removeDeploymentLeftovers(service);
    if (state.dir) rmSync(state.dir, { recursive: true, force: true });
  });
  return state;
}

/** Ends a deploy a failed test left running (its queue has no worker any more). */
export async function terminateIfRunning(client: Client, workflowId: string | undefined): Promise<void> {
  if (!workflowId) return;
  const handle = client.workflow.getHandle(workflowId);
  const { status } = await handle.describe().catch(() => ({ status: { name: 'GONE' } }));
  if (status.name === 'RUNNING') await handle.terminate('fault suite cleanup').catch(() => undefined);
  // Its children outlive a terminate (parent-close policy REQUEST_CANCEL) and no worker will run them.
  for await (const child of client.workflow.list({ query: `ExecutionStatus = "Running" AND WorkflowId STARTS_WITH "${workflowId}/vm/"` })) {
    await client.workflow.getHandle(child.workflowId).terminate('fault suite cleanup').catch(() => undefined);
  }
}

export function summaryOf(result: CliResult): DeploySummary {
  return JSON.parse(result.stdout) as DeploySummary;
}

/** Images of this deployment on this machine (built ones carry kamal-dev.service). */
export async function deploymentImages(service: string): Promise<string[]> {
  const out = await sh(['docker', 'images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', '--filter', `label=kamal-dev.service=${service}`]);
  return out ? out.split('\n') : [];
}

/** Every service of the stack on a local VM: `name state health`, from the VM's own engine. */
export async function stackServices(vm: string, project: string): Promise<string[]> {
  const out = await sh(['docker', 'exec', vm, 'docker', 'compose', '-p', project, 'ps', '-a', '--format', '{{.Service}} {{.State}} {{.Health}}']);
  return out.split('\n').map((l) => l.trim()).sort();
}
