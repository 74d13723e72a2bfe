import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { sh } from '../lab/exec';
import { LAB_LABEL } from '../lab/lab';
import { writeFiles } from './faults';
import { labInfo } from './lab';

const ROOT = join(__dirname, '..', '..');

export interface WorkerContainer {
  name: string;
  /** Its Temporal worker identity (pid@host): the histories say which worker ran which step. */
  identity: string;
}

export interface WorkerMachine {
  temporalAddress: string;
  sharedQueue: string;
  /** The worker's environment: the registry credentials, as the docs say a worker may be given them. */
  env: Record<string, string>;
  /** Mounted as its ~/.ssh; absent: a worker without the deployment key. */
  sshDir?: string;
  /** Holds worker.secrets, given as `kamal-dev worker --secrets`. */
  secretsDir: string;
}

/**
 * `kamal-dev worker` in a debian container: this machine's network and engine, its own home, none
 * of the project folder. Host pids (--pid host) give each container its own worker identity.
 */
export async function startWorkerContainer(name: string, machine: WorkerMachine, label: string): Promise<WorkerContainer> {
  const env = Object.entries({ HOME: '/root', TEMPORAL_ADDRESS: machine.temporalAddress, KAMAL_DEV_TASK_QUEUE: machine.sharedQueue, ...machine.env });
  await sh(['docker', 'run', '-d', '--name', name, '--label', `${LAB_LABEL}=${label}`, '--network', 'host', '--pid', 'host',
    ...env.flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    '-v', `${process.execPath}:/usr/bin/node:ro`, '-v', `${ROOT}:/opt/kamal-dev:ro`,
    ...(machine.sshDir ? ['-v', `${machine.sshDir}:/root/.ssh:ro`] : []), '-v', `${machine.secretsDir}:/run/kamal-dev:ro`, '-w', '/srv',
    'debian:bookworm-slim', '/usr/bin/node', '/opt/kamal-dev/bin/kamal-dev', 'worker', '--secrets', '/run/kamal-dev/worker.secrets']);
  for (let i = 0; !(await workerLog(name)).includes('worker polling'); i++) {
    if (i === 120) throw new Error(`worker ${name} did not start polling: ${await workerLog(name)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const pid = await sh(['docker', 'inspect', '--format', '{{.State.Pid}}', name]);
  return { name, identity: `${pid.trim()}@${hostname()}` };
}

/** What the worker said, stdout and stderr (where its notes go); '' for a container that is not there. */
export function workerLog(name: string): Promise<string> {
  return sh(['sh', '-c', 'docker logs "$1" 2>&1', 'sh', name]).catch(() => '');
}

const BOOT_WAITING = '/run/kamal-dev-test-boot-waiting';
const BOOT_DONE = '/run/kamal-dev-test-boot-done';

/**
 * A host that bootstrap finds still booting: a `cloud-init` whose `status --wait` (what bootstrap
 * waits on first) says it was asked, then waits until releaseBoot. So a test knows from the VM
 * that bootstrap runs there, and that it cannot finish before the test lets it.
 */
export async function holdBoot(host: string): Promise<void> {
  const script = `#!/bin/sh\ntouch ${BOOT_WAITING}\nuntil [ -e ${BOOT_DONE} ]; do sleep 0.2; done\n`;
  await sh(['docker', 'exec', '-i', host, 'sh', '-c', 'cat > /usr/local/bin/cloud-init && chmod +x /usr/local/bin/cloud-init'], { input: script });
}

export async function bootWaiting(host: string): Promise<boolean> {
  return sh(['docker', 'exec', host, 'test', '-e', BOOT_WAITING]).then(() => true, () => false);
}

export async function releaseBoot(host: string): Promise<void> {
  await sh(['docker', 'exec', host, 'touch', BOOT_DONE]);
}

/** The worker that holds this activity's running attempt, from describe (a running attempt is not in the history yet). */
export async function runningAttemptOf(client: Client, workflowId: string, activity: string): Promise<string | undefined> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const pending = (raw.pendingActivities ?? []).find((p) => p.activityType?.name === activity);
  return pending?.state === temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED ? (pending.lastWorkerIdentity ?? undefined) : undefined;
}

export interface StepRun {
  step: string;
  queue: string;
  identity: string;
  attempt: number;
  outcome: 'completed' | 'failed' | 'timed out' | 'cancelled' | 'open';
}

/** Every activity a workflow scheduled: on which queue, which worker ran its last attempt, how it ended. */
export async function stepRuns(client: Client, workflowId: string): Promise<StepRun[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const runs = new Map<string, StepRun>();
  for (const e of events) {
    const id = String(e.eventId);
    const a = e.activityTaskScheduledEventAttributes;
    if (a) runs.set(id, { step: a.activityType!.name!, queue: a.taskQueue!.name!, identity: '', attempt: 0, outcome: 'open' });
    const started = e.activityTaskStartedEventAttributes;
    if (started) Object.assign(runs.get(String(started.scheduledEventId))!, { identity: started.identity!, attempt: started.attempt! });
    const closed: [StepRun['outcome'], { scheduledEventId?: unknown } | null | undefined][] = [
      ['completed', e.activityTaskCompletedEventAttributes],
      ['failed', e.activityTaskFailedEventAttributes],
      ['timed out', e.activityTaskTimedOutEventAttributes],
      ['cancelled', e.activityTaskCanceledEventAttributes],
    ];
    for (const [outcome, attributes] of closed) if (attributes) runs.get(String(attributes.scheduledEventId))!.outcome = outcome;
  }
  return [...runs.values()];
}

/** Polls `check` until it holds; a bound on the tries, not on time, so a slow machine only waits longer. */
export async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !(await check()); i++) {
    if (i === 1200) throw new Error(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The app image writeProject's stack runs, which a test pushes to the lab registry. */
export const appImage = () => `${labInfo<{ address: string }>('registry').address}/vms/rw-app:${process.pid}`;

/**
 * A project whose app is healthy only with the workspace copy (a file of this folder) and the secret
 * that only the other workers hold (DB_PASSWORD); this machine has the registry credentials (it pushes).
 */
export function writeProject(dir: string, service: string, provider: string, count: number, more: string[] = []): string {
  const { address, username, password } = labInfo<{ address: string; username: string; password: string }>('registry');
  const healthcheck = { test: ['CMD', 'sh', '-c', 'test -f /srv/hello.txt && printenv DB_PASSWORD'], interval: '1s', timeout: '2s', retries: 3 };
  const app = { image: appImage(), environment: { DB_PASSWORD: '${DB_PASSWORD}' }, volumes: ['..:/srv'], healthcheck };
  writeFiles(dir, {
    'config/dev.yml': [
      `service: ${service}`,
      `vms: {count: ${count}}`,
      `provider: ${provider}`,
      'ssh: {user: root, key_path: ~/.ssh/deploy_ed25519}',
      `registry: {server: ${address}, namespace: vms, username_env: REG_USER, password_env: REG_PASS}`,
      'secrets: [DB_PASSWORD]',
      ...more,
      '',
    ].join('\n'),
    '.devcontainer/devcontainer.json': JSON.stringify({ name: 'rw', dockerComposeFile: 'compose.yaml', service: 'app', workspaceFolder: '/srv' }),
    '.devcontainer/compose.yaml': JSON.stringify({ services: { app } }),
    'hello.txt': 'from the source folder\n',
    '.kamal/secrets': `REG_USER=${username}\nREG_PASS='${password}'\n`,
  });
  return dir;
}
