import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { failureTypeInterceptor } from '../../src/activities/failures';
import { createVmActivities } from '../../src/activities/vm';
import { startDeploy } from '../../src/client/deploy';
import { sourceTaskQueue } from '../../src/client/queues';
import { recordDeployOnSource } from '../../src/client/sourceRecords';
import { projectIdentity } from '../../src/state/identity';
import type { DeploySummary } from '../../src/workflows/types';
import { sh } from '../lab/exec';
import { LAB_LABEL } from '../lab/lab';
import { kamalDev } from '../support/kamal-dev';
import { describeWithLab, labInfo } from '../support/lab';
import { connectLab, queues, type Harness } from '../support/temporalHarness';
import { buildTestImage, destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(1_200_000);

const ROOT = join(__dirname, '..', '..');
const DB_PASSWORD = `remote-worker-secret-${process.pid}`;

/**
 * A second `kamal-dev worker` in a container that shares the network and the Docker engine but not
 * the project folder, ~/.ssh or ~/.docker of this machine: it gets the deployment key at the path
 * config/dev.yml names (`~/.ssh/...` of its own home), the registry credentials as environment
 * variables and the stack's secret in `--secrets FILE`, and runs the workflows and every VM step of
 * a 2-VM deploy with the ssh provider (lab VMs as hosts). This process serves only the source queue.
 * The workspace travels as the seed image in the registry (pushWorkspaceSeed here, seedWorkspace there).
 */
describeWithLab(['temporal', 'vmImage', 'registry'], 'a worker on another machine', () => {
  const hostsService = `rw-hosts-${process.pid}`;
  const service = `rw-${process.pid}`;
  const container = `kamal-dev-rw-worker-${process.pid}`;
  const registry = () => labInfo<{ address: string; username: string; password: string }>('registry');
  const image = () => `${registry().address}/vms/rw-app:${process.pid}`;
  const hostMaker = createVmActivities({ resolveSecret: async () => '' });
  const savedHome = process.env.HOME;
  let h: Harness;
  let source: Worker | undefined;
  let sourceRun: Promise<void> | undefined;
  let projectDir: string;
  let sourceHome: string;
  let ports: number[];
  let workerSecretsDir: string;

  /** `kamal-dev worker` in a container: this machine's network and engine, its own home, none of this folder. */
  async function startWorkerContainer(name: string, shared: string, sshDir: string | undefined, secretsDir: string): Promise<void> {
    await sh(['docker', 'run', '-d', '--name', name, '--label', `${LAB_LABEL}=rw-${process.pid}`, '--network', 'host',
      '-e', 'HOME=/root', '-e', `TEMPORAL_ADDRESS=${h.address}`, '-e', `KAMAL_DEV_TASK_QUEUE=${shared}`,
      '-e', `REG_USER=${registry().username}`, '-e', `REG_PASS=${registry().password}`,
      '-v', `${process.execPath}:/usr/bin/node:ro`, '-v', `${ROOT}:/opt/kamal-dev:ro`,
      ...(sshDir ? ['-v', `${sshDir}:/root/.ssh:ro`] : []), '-v', `${secretsDir}:/run/kamal-dev:ro`, '-w', '/srv',
      'debian:bookworm-slim', '/usr/bin/node', '/opt/kamal-dev/bin/kamal-dev', 'worker', '--secrets', '/run/kamal-dev/worker.secrets']);
    for (let i = 0; !(await sh(['docker', 'logs', name]).catch(() => '')).includes('worker polling') && i < 120; i++) await new Promise((r) => setTimeout(r, 500));
  }

  beforeAll(async () => {
    h = await connectLab();
    const keys = await testProject('rw');
    // The two existing hosts: lab VMs made with the deployment key.
    const hostPlan = testPlan({ projectDir: keys.dir, keyPath: keys.keyPath, service: hostsService });
    const hosts = await Promise.all([1, 2].map((index) => hostMaker.provisionVm({ plan: hostPlan, vm: { deployment: hostsService, name: `${hostsService}-${index}`, index } })));
    ports = hosts.map((vm) => vm.ssh.port);
    await buildTestImage(image(), `FROM debian:bookworm-slim\nCMD ["sleep", "infinity"]\n`);
    const dockerConfig = mkdtempSync(join(tmpdir(), 'kamal-dev-rw-docker-'));
    await sh(['docker', 'login', registry().address, '--username', registry().username, '--password-stdin'], { input: registry().password, env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
    await sh(['docker', 'push', image()], { env: { ...process.env, DOCKER_CONFIG: dockerConfig } });

    // Each machine has the key at ~/.ssh/deploy_ed25519 of its own home.
    sourceHome = mkdtempSync(join(tmpdir(), 'kamal-dev-rw-source-home-'));
    const workerHome = mkdtempSync(join(tmpdir(), 'kamal-dev-rw-worker-ssh-'));
    for (const home of [join(sourceHome, '.ssh'), workerHome]) {
      mkdirSync(home, { recursive: true });
      copyFileSync(keys.keyPath, join(home, 'deploy_ed25519'));
      copyFileSync(`${keys.keyPath}.pub`, join(home, 'deploy_ed25519.pub'));
    }
    process.env.HOME = sourceHome;
    projectDir = mkdtempSync(join(tmpdir(), 'kamal-dev-rw-project-'));
    mkdirSync(join(projectDir, 'config'));
    mkdirSync(join(projectDir, '.devcontainer'));
    mkdirSync(join(projectDir, '.kamal'));
    writeFileSync(
      join(projectDir, 'config', 'dev.yml'),
      [
        `service: ${service}`,
        'vms: {count: 2}',
        `provider: {type: ssh, hosts: [{host: 127.0.0.1, port: ${ports[0]}}, {host: 127.0.0.1, port: ${ports[1]}}]}`,
        'ssh: {user: root, key_path: ~/.ssh/deploy_ed25519}',
        `registry: {server: ${registry().address}, namespace: vms, username_env: REG_USER, password_env: REG_PASS}`,
        'secrets: [DB_PASSWORD]',
        '',
      ].join('\n'),
    );
    writeFileSync(join(projectDir, '.devcontainer', 'devcontainer.json'), JSON.stringify({ name: 'rw', dockerComposeFile: 'compose.yaml', service: 'app', workspaceFolder: '/srv' }));
    // Healthy only with the workspace copy (a file of this folder) and the secret the other worker holds.
    const healthcheck = { test: ['CMD', 'sh', '-c', 'test -f /srv/hello.txt && printenv DB_PASSWORD'], interval: '1s', timeout: '2s', retries: 3 };
    const app = { image: image(), environment: { DB_PASSWORD: '${DB_PASSWORD}' }, volumes: ['..:/srv'], healthcheck };
    writeFileSync(join(projectDir, '.devcontainer', 'compose.yaml'), JSON.stringify({ services: { app } }));
    writeFileSync(join(projectDir, 'hello.txt'), 'from the source folder\n');
    // The source has the registry credentials (it pushes); the stack's secret only the other worker has.
    writeFileSync(join(projectDir, '.kamal', 'secrets'), `REG_USER=${registry().username}\nREG_PASS='${registry().password}'\n`, { mode: 0o600 });
    const workerSecrets = mkdtempSync(join(tmpdir(), 'kamal-dev-rw-worker-secrets-'));
    writeFileSync(join(workerSecrets, 'worker.secrets'), `DB_PASSWORD=${DB_PASSWORD}\n`, { mode: 0o600 });
    workerSecretsDir = workerSecrets;

    const q = queues('rw');
    Object.assign(process.env, { TEMPORAL_ADDRESS: h.address, KAMAL_DEV_TASK_QUEUE: q.shared });
    await startWorkerContainer(container, q.shared, workerHome, workerSecrets);

    // This machine serves its source queue only (plan, build, push): no workflow, no VM step.
    source = await Worker.create({ connection: h.native, taskQueue: sourceTaskQueue(projectDir), activities: createActivities(), interceptors: { activity: [failureTypeInterceptor] } });
    sourceRun = source.run();
    (globalThis as { rwQueue?: string }).rwQueue = q.shared;
  });

  afterAll(async () => {
    source?.shutdown();
    await sourceRun?.catch(() => undefined);
    const logs = await sh(['docker', 'logs', container]).catch(() => '');
    if (logs) process.stderr.write(`remote worker's log:\n${logs.split('\n').slice(-40).join('\n')}\n`);
    await sh(['docker', 'rm', '-f', container, `${container}-keyless`]).catch(() => undefined);
    await hostMaker.close();
    await destroyDeployment(hostsService);
    await sh(['docker', 'rmi', '-f', image()]).catch(() => undefined);
    process.env.HOME = savedHome;
    delete process.env.TEMPORAL_ADDRESS;
    delete process.env.KAMAL_DEV_TASK_QUEUE;
  });

  it('runs every VM step of a 2-VM deploy elsewhere, healthy; list, status and ssh then work here', async () => {
    const identity = projectIdentity(projectDir);
    const shared = (globalThis as { rwQueue?: string }).rwQueue!;
    const handle = await startDeploy(h.client, { projectDir, count: 2, skipBuild: false, skipPush: false }, { sharedQueue: shared, sourceQueue: sourceTaskQueue(projectDir), identity });
    const summary: DeploySummary = await handle.result();
    expect(summary.vms.map((v) => [v.name, v.state, v.error])).toEqual([1, 2].map((i) => [`${service}-${i}`, 'deployed', undefined]));

    // Which worker ran what: this process only the source's steps.
    const here = `${process.pid}@${hostname()}`;
    const ranBy = async (workflowId: string) => {
      const events = (await h.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const scheduled = new Map(events.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name!]));
      return events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => [scheduled.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId)), e.activityTaskStartedEventAttributes!.identity === here ? 'here' : 'elsewhere']);
    };
    expect(new Set((await ranBy(handle.workflowId)).map(([, where]) => where))).toEqual(new Set(['here']));
    for (const vm of summary.vms) {
      const steps = await ranBy(vm.workflowId);
      expect(steps.map(([step]) => step)).toEqual(expect.arrayContaining(['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'seedWorkspace', 'composeUp', 'verifyStack']));
      expect(steps.filter(([, where]) => where === 'here')).toEqual([]);
    }
    // Nothing of this machine's .kamal/ was written by the other worker; the results bring it here.
    expect(readFileSync(join(projectDir, '.kamal', 'secrets'), 'utf8')).not.toContain(DB_PASSWORD);
    await recordDeployOnSource(projectDir, identity, summary);
    const knownHosts = readFileSync(join(projectDir, '.kamal', 'known_hosts'), 'utf8');
    for (const [i, port] of ports.entries()) {
      const hostKey = (await sh(['docker', 'exec', `${hostsService}-${i + 1}`, 'cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).split(' ').slice(0, 2).join(' ');
      expect(summary.vms.map((v) => v.vm?.hostKey)).toContain(hostKey);
      expect(knownHosts).toContain(`[127.0.0.1]:${port} ${hostKey}`);
    }

    const env = { HOME: sourceHome };
    const list = await kamalDev(['list', '--json'], { cwd: projectDir, env });
    expect({ code: list.code, names: JSON.parse(list.stdout).vms.map((v: { name: string }) => v.name) }).toEqual({ code: 0, names: [`${service}-1`, `${service}-2`] });
    const status = await kamalDev(['status', '--json'], { cwd: projectDir, env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('healthy');
    const ssh = await kamalDev(['ssh', `${service}-2`, '--', 'sh', '-c', 'cat /srv/hello.txt; printenv DB_PASSWORD'], { cwd: projectDir, env });
    expect({ code: ssh.code, stdout: ssh.stdout.trim() }).toEqual({ code: 0, stdout: `from the source folder\n${DB_PASSWORD}` });
  });

  it('a worker without the key fails the VM step at once, naming the path and the worker, and touches nothing', async () => {
    await sh(['docker', 'rm', '-f', container]);
    const shared = (globalThis as { rwQueue?: string }).rwQueue!;
    await startWorkerContainer(`${container}-keyless`, shared, undefined, workerSecretsDir);
    const identity = projectIdentity(projectDir);
    const handle = await startDeploy(h.client, { projectDir, count: 2, skipBuild: false, skipPush: false }, { sharedQueue: shared, sourceQueue: sourceTaskQueue(projectDir), identity });
    const failure = await handle.result().then(() => undefined, (error: { cause?: { details?: DeploySummary[] } }) => error.cause?.details?.[0]);
    expect(failure?.vms.map((v) => v.error)).toEqual([1, 2].map(() => expect.stringContaining(`SSH key /root/.ssh/deploy_ed25519 does not exist on worker ${hostname()}`)));
    for (const vm of failure!.vms) {
      const events = (await h.client.workflow.getHandle(vm.workflowId).fetchHistory()).events ?? [];
      const attempts = events.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
      expect(attempts.every((attempt) => attempt === 1)).toBe(true);
    }
    // The first deploy's stacks are still there and healthy.
    const status = await kamalDev(['status', '--json'], { cwd: projectDir, env: { HOME: sourceHome } });
    expect({ code: status.code, healthy: (status.stdout.match(/healthy/g) ?? []).length >= 2 }).toEqual({ code: 0, healthy: true });
  });
});
