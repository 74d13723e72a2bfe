import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { failureTypeInterceptor } from '../../src/activities/failures';
import { HOST_MARKER, parseMarker } from '../../src/remote/hostMarker';
import { createVmActivities } from '../../src/activities/vm';
import { startDeploy } from '../../src/client/deploy';
import { sourceTaskQueue } from '../../src/client/queues';
import { projectIdentity } from '../../src/state/identity';
import type { DeploySummary } from '../../src/workflows/types';
import { sh } from '../lab/exec';
import { kamalDev, removeDeploymentLeftovers } from '../support/kamal-dev';
import { describeWithLab, labInfo } from '../support/lab';
import { appImage, bootWaiting, holdBoot, releaseBoot, runningAttemptOf, startWorkerContainer, stepRuns, until, workerLog, writeProject, type StepRun, type WorkerContainer, type WorkerMachine } from '../support/remoteWorkers';
import { connectLab, queues, type Harness } from '../support/temporalHarness';
import { UpcloudFake } from '../support/upcloud-fake';
import { LabMachines } from '../support/upcloud-machines';
import { buildTestImage, destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(1_200_000);

const DB_PASSWORD = `remote-worker-secret-${process.pid}`;
const VMS = [1, 2, 3];

/**
 * Workers on other machines: `kamal-dev worker` in containers that share the network and the Docker
 * engine but not the project folder, ~/.ssh or ~/.docker of this machine. Each gets the deployment
 * key at the path config/dev.yml names (`~/.ssh/...` of its own home), the registry credentials as
 * environment variables and the stack's secret in `--secrets FILE`, and runs the workflows and every
 * VM step of a 3-VM deploy with the ssh provider (lab VMs as hosts). The built CLI on this machine
 * (bin/kamal-dev) runs only the source queue's steps, and leaves with --detach after the push.
 * Alongside it, a 1-VM deploy with the upcloud provider (the local fake of its API) on another worker.
 */
describeWithLab(['temporal', 'vmImage', 'registry'], 'workers on other machines', () => {
  const hostsService = `rw-hosts-${process.pid}`;
  const service = `rw-${process.pid}`;
  const label = `rw-${process.pid}`;
  const workerName = (role: string) => `kamal-dev-rw-${role}-${process.pid}`;
  const hosts = VMS.map((i) => `${hostsService}-${i}`);
  const registry = () => labInfo<{ address: string; username: string; password: string }>('registry');
  const image = appImage;
  const hostMaker = createVmActivities({ resolveSecret: async () => '' });
  const savedHome = process.env.HOME;
  const folders: string[] = [];
  const folder = (prefix: string) => (folders.push(mkdtempSync(join(tmpdir(), `kamal-dev-rw-${prefix}-`))), folders.at(-1)!);
  let h: Harness;
  let projectDir: string;
  let sourceHome: string;
  let ports: number[];
  let machine: WorkerMachine;
  const cloudService = `rwu-${process.pid}`;
  let cloudDeploy: ReturnType<typeof deployOnUpcloudFake>;

  /** A deploy started here, where a worker serves the source queue only (plan, push): no workflow, no VM step. */
  async function deployHere(dir: string, sharedQueue: string, count: number): Promise<DeploySummary> {
    const source = await Worker.create({ connection: h.native, taskQueue: sourceTaskQueue(dir), activities: createActivities(), interceptors: { activity: [failureTypeInterceptor] } });
    const sourceRun = source.run();
    try {
      const handle = await startDeploy(h.client, { projectDir: dir, count, skipBuild: false, skipPush: false }, { sharedQueue, sourceQueue: sourceTaskQueue(dir), identity: projectIdentity(dir) });
      return await handle.result();
    } finally {
      source.shutdown();
      await sourceRun;
    }
  }

  /**
   * A 1-VM deploy on the UpCloud fake (lab VMs behind its servers), served by a worker of its own
   * that alone has the API credentials (in its environment). Started from beforeAll, so it runs
   * alongside the ssh provider's deploy instead of after it.
   */
  async function deployOnUpcloudFake(): Promise<{ summary: DeploySummary; runs: StepRun[]; creates: number; worker: WorkerContainer }> {
    const fake = await UpcloudFake.start();
    const machines = new LabMachines({ keyAfterMs: 0, privateKeyPath: join(sourceHome, '.ssh', 'deploy_ed25519') });
    fake.machines = machines;
    try {
      const dir = writeProject(folder('upcloud'), cloudService, `{type: upcloud, zone: de-fra1, plan: 1xCPU-1GB, api_url: "${fake.url}"}`, 1);
      const { shared } = queues('rwu');
      const credentials = { UPCLOUD_USERNAME: fake.username, UPCLOUD_PASSWORD: fake.password };
      const worker = await startWorkerContainer(workerName('upcloud'), { ...machine, sharedQueue: shared, env: { ...machine.env, ...credentials } }, label);
      const summary = await deployHere(dir, shared, 1);
      const runs = await stepRuns(h.client, summary.vms[0].workflowId);
      return { summary, runs, creates: fake.requests.filter((r) => r === 'POST /server').length, worker };
    } finally {
      await fake.close();
      await Promise.allSettled(machines.started);
      await removeDeploymentLeftovers(cloudService);
    }
  }

  beforeAll(async () => {
    h = await connectLab();
    const keys = await testProject('rw');
    folders.push(keys.dir);
    // The existing hosts: lab VMs made with the deployment key.
    const hostPlan = testPlan({ projectDir: keys.dir, keyPath: keys.keyPath, service: hostsService });
    const made = await Promise.all(VMS.map((index) => hostMaker.provisionVm({ plan: hostPlan, vm: { deployment: hostsService, name: `${hostsService}-${index}`, index } })));
    ports = made.map((vm) => vm.ssh.port);
    await buildTestImage(image(), `FROM debian:bookworm-slim\nCMD ["sleep", "infinity"]\n`);
    const dockerConfig = folder('docker');
    await sh(['docker', 'login', registry().address, '--username', registry().username, '--password-stdin'], { input: registry().password, env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
    await sh(['docker', 'push', image()], { env: { ...process.env, DOCKER_CONFIG: dockerConfig } });

    // Each machine has the key at ~/.ssh/deploy_ed25519 of its own home.
    sourceHome = folder('source-home');
    const workerSsh = folder('worker-ssh');
    for (const dir of [join(sourceHome, '.ssh'), workerSsh]) {
      mkdirSync(dir, { recursive: true });
      copyFileSync(keys.keyPath, join(dir, 'deploy_ed25519'));
      copyFileSync(`${keys.keyPath}.pub`, join(dir, 'deploy_ed25519.pub'));
    }
    process.env.HOME = sourceHome;
    const hostList = `{type: ssh, hosts: [${ports.map((port) => `{host: 127.0.0.1, port: ${port}}`).join(', ')}]}`;
    // A killed worker's bootstrap goes to another within its heartbeat timeout: 10 s here, not 30.
    projectDir = writeProject(folder('project'), service, hostList, VMS.length, ['temporal: {timeouts: {long: {heartbeat: 10s}}}']);
    const secretsDir = folder('worker-secrets');
    writeFileSync(join(secretsDir, 'worker.secrets'), `DB_PASSWORD=${DB_PASSWORD}\n`, { mode: 0o600 });

    const { shared } = queues('rw');
    Object.assign(process.env, { TEMPORAL_ADDRESS: h.address, KAMAL_DEV_TASK_QUEUE: shared });
    machine = { temporalAddress: h.address, sharedQueue: shared, env: { REG_USER: registry().username, REG_PASS: registry().password }, sshDir: workerSsh, secretsDir };
    cloudDeploy = deployOnUpcloudFake();
    cloudDeploy.catch(() => undefined);
  });

  afterAll(async () => {
    await cloudDeploy?.catch(() => undefined);
    const names = ['remote', 'takeover', 'keyless', 'upcloud'].map(workerName);
    for (const name of names) {
      const logs = await workerLog(name);
      if (logs) process.stderr.write(`${name}'s log:\n${logs.split('\n').slice(-30).join('\n')}\n`);
    }
    await sh(['docker', 'rm', '-f', ...names]).catch(() => undefined);
    await hostMaker.close();
    await destroyDeployment(hostsService);
    await sh(['docker', 'rmi', '-f', image()]).catch(() => undefined);
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
    process.env.HOME = savedHome;
    delete process.env.TEMPORAL_ADDRESS;
    delete process.env.KAMAL_DEV_TASK_QUEUE;
    await h?.close();
  });

  it('deploy --detach leaves after the push; the worker killed mid-bootstrap, a third finishes every VM once; list, status and ssh work here', async () => {
    for (const host of hosts) await holdBoot(host);
    const remote = await startWorkerContainer(workerName('remote'), machine, label);
    const env = { HOME: sourceHome };
    const detached = await kamalDev(['--json', 'deploy', '--detach'], { cwd: projectDir, env });
    expect({ code: detached.code, stderr: detached.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('--detach: this command returns once the images and the workspace seed are pushed') });
    const { workflowId } = JSON.parse(detached.stdout) as { workflowId: string };
    expect(JSON.parse(detached.stdout)).toMatchObject({ outcome: 'detached', attach: `kamal-dev deploy --attach ${workflowId}` });
    const deploy = h.client.workflow.getHandle(workflowId);
    // The hosts hold every bootstrap: the source left before any VM could be done.
    expect((await deploy.describe()).status.name).toBe('RUNNING');

    // Mid-bootstrap: each VM's bootstrap runs on the remote worker, and each host sees it.
    let children: string[] = [];
    await until('every VM in bootstrap on the remote worker', async () => {
      const pending = (await deploy.describe()).raw.pendingChildren ?? [];
      children = pending.filter((c) => c.workflowTypeName === 'DeployWorkspace').map((c) => c.workflowId!);
      const running = await Promise.all(children.map((child) => runningAttemptOf(h.client, child, 'bootstrapVm')));
      return children.length === VMS.length && running.every((identity) => identity === remote.identity) && (await Promise.all(hosts.map(bootWaiting))).every(Boolean);
    });
    await sh(['docker', 'kill', '--signal', 'KILL', remote.name]);
    const takeover = await startWorkerContainer(workerName('takeover'), machine, label);
    for (const host of hosts) await releaseBoot(host);
    const summary: DeploySummary = await deploy.result();
    expect(summary.vms.map((v) => [v.name, v.state, v.error])).toEqual(VMS.map((i) => [`${service}-${i}`, 'deployed', undefined]));
    expect(summary.vms.map((v) => v.workflowId).sort()).toEqual([...children].sort());

    // The source ran only its queue's steps; the remote worker each VM's steps up to bootstrap, the third one the rest.
    const parentRuns = await stepRuns(h.client, workflowId);
    expect(parentRuns.filter((r) => r.step === 'pushWorkspaceSeed').map((r) => r.outcome)).toEqual(['completed']);
    expect(parentRuns.filter((r) => r.queue !== sourceTaskQueue(projectDir) || [remote.identity, takeover.identity].includes(r.identity))).toEqual([]);
    for (const child of children) {
      const runs = await stepRuns(h.client, child);
      expect(runs.map((r) => r.step)).toEqual(expect.arrayContaining(['provisionVm', 'waitForSsh', 'bootstrapVm', 'uploadStack', 'seedWorkspace', 'composeUp', 'verifyStack']));
      const once = (step: string) => runs.filter((r) => r.step === step).map(({ identity, attempt, outcome }) => ({ identity, first: attempt === 1, outcome }));
      expect(once('provisionVm')).toEqual([{ identity: remote.identity, first: true, outcome: 'completed' }]);
      expect(once('bootstrapVm')).toEqual([{ identity: takeover.identity, first: false, outcome: 'completed' }]);
      expect(once('composeUp')).toEqual([{ identity: takeover.identity, first: true, outcome: 'completed' }]);
      expect(runs.filter((r) => ![remote.identity, takeover.identity].includes(r.identity))).toEqual([]);
    }
    // No host claimed twice, no VM doubled: one marker per host, one VM per marker, one app container per host.
    const identity = projectIdentity(projectDir);
    const markers = await Promise.all(hosts.map(async (host) => parseMarker(await sh(['docker', 'exec', host, 'cat', HOST_MARKER]))));
    expect(markers.map((m) => [m?.project, m?.name]).sort()).toEqual(VMS.map((i) => [identity, `${service}-${i}`]));
    expect(new Set(summary.vms.map((v) => v.vm?.id)).size).toBe(VMS.length);
    for (const host of hosts) expect(await sh(['docker', 'exec', host, 'docker', 'ps', '-a', '--format', '{{.Label "com.docker.compose.service"}}'])).toBe('app');

    // Nothing of this machine's .kamal/ was written by the other workers; `list` here records the deploy from its result.
    expect(readFileSync(join(projectDir, '.kamal', 'secrets'), 'utf8')).not.toContain(DB_PASSWORD);
    const list = await kamalDev(['list', '--json'], { cwd: projectDir, env });
    expect({ code: list.code, names: JSON.parse(list.stdout).vms.map((v: { name: string }) => v.name) }).toEqual({ code: 0, names: VMS.map((i) => `${service}-${i}`) });
    const knownHosts = readFileSync(join(projectDir, '.kamal', 'known_hosts'), 'utf8');
    for (const [i, port] of ports.entries()) {
      const hostKey = (await sh(['docker', 'exec', hosts[i], 'cat', '/etc/ssh/ssh_host_ed25519_key.pub'])).split(' ').slice(0, 2).join(' ');
      expect(summary.vms.map((v) => v.vm?.hostKey)).toContain(hostKey);
      expect(knownHosts).toContain(`[127.0.0.1]:${port} ${hostKey}`);
    }
    const status = await kamalDev(['status', '--json'], { cwd: projectDir, env });
    const health = (JSON.parse(status.stdout) as { vms: { containers: { health?: string }[] }[] }).vms.map((v) => v.containers.map((c) => c.health));
    expect({ code: status.code, health }).toEqual({ code: 0, health: VMS.map(() => ['healthy']) });
    const ssh = await kamalDev(['ssh', `${service}-3`, '--', 'sh', '-c', 'cat /srv/hello.txt; printenv DB_PASSWORD'], { cwd: projectDir, env });
    expect({ code: ssh.code, stdout: ssh.stdout.trim() }).toEqual({ code: 0, stdout: `from the source folder\n${DB_PASSWORD}` });
  });

  it('a worker without the key fails the VM step at once, naming the path and the worker, and touches nothing', async () => {
    await sh(['docker', 'rm', '-f', workerName('takeover')]);
    await startWorkerContainer(workerName('keyless'), { ...machine, sshDir: undefined }, label);
    const failure = await deployHere(projectDir, machine.sharedQueue, VMS.length).then(() => undefined, (error: { cause?: { details?: DeploySummary[] } }) => error.cause?.details?.[0]);
    expect(failure?.vms.map((v) => v.error)).toEqual(VMS.map(() => expect.stringContaining(`SSH key /root/.ssh/deploy_ed25519 does not exist on worker ${hostname()}`)));
    for (const vm of failure!.vms) expect((await stepRuns(h.client, vm.workflowId)).filter((r) => r.identity !== '' && r.attempt !== 1)).toEqual([]);
    // The first deploy's stacks are still there and healthy.
    const status = await kamalDev(['status', '--json'], { cwd: projectDir, env: { HOME: sourceHome } });
    const health = (JSON.parse(status.stdout) as { vms: { containers: { health?: string }[] }[] }).vms.map((v) => v.containers.map((c) => c.health));
    expect({ code: status.code, health }).toEqual({ code: 0, health: VMS.map(() => ['healthy']) });
  });

  it('a deploy on the UpCloud fake runs every VM step on the other worker, which alone holds the API credentials', async () => {
    const { summary, runs, creates, worker } = await cloudDeploy;
    expect(summary.vms.map((v) => [v.name, v.state, v.error, v.containers?.map((c) => c.health)])).toEqual([[`${cloudService}-1`, 'deployed', undefined, ['healthy']]]);
    expect(creates).toBe(1);
    expect(runs.map((r) => r.step)).toEqual(expect.arrayContaining(['provisionVm', 'waitForSsh', 'bootstrapVm', 'seedWorkspace', 'composeUp', 'verifyStack']));
    expect(runs.filter((r) => r.identity !== worker.identity)).toEqual([]);
  });
});
