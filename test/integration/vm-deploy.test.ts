import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { HOST_MARKER, markerText } from '../../src/remote/hostMarker';
import { createVmActivities } from '../../src/activities/vm';
import { buildImages, removeBuildImages } from '../../src/images/build';
import { resolveSpec } from '../../src/spec/resolve';
import type { VmHandle } from '../../src/domain/vm';
import { knownHostsFile } from '../../src/ssh/knownHosts';
import { SshPool } from '../../src/ssh/pool';
import type { SshSession } from '../../src/ssh/session';
import { readState, stateFilePath } from '../../src/state/devState';
import { sh } from '../lab/exec';
import { describeWithLab, labInfo } from '../support/lab';
import { buildTestImage, destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(900_000);

const REFERENCE_CLI = resolve(__dirname, '../../node_modules/.bin/devcontainer');

/** The reference CLI's containers of one test, with the images and network its `up` made for them. */
async function removeReferenceContainers(label: string, composeProject: string): Promise<void> {
  const containers = (await sh(['docker', 'ps', '-aq', '--filter', `label=${label}`])).split('\n').filter(Boolean);
  const images = await Promise.all(containers.map((c) => sh(['docker', 'inspect', '--format', '{{.Config.Image}}', c])));
  if (containers.length) await sh(['docker', 'rm', '-f', ...containers]);
  await sh(['docker', 'network', 'rm', `${composeProject}_default`]).catch(() => undefined);
  // `up` builds the compose service's image (PROJECT-app), then vsc-...-features on top of it.
  for (const image of [...images, `${composeProject}-app`]) await sh(['docker', 'image', 'rm', '-f', image]).catch(() => undefined);
}

const HOSTILE_SECRET = `p4ss'"$(touch /tmp/pwned)\`id\`;\n$HOME`;

describeWithLab(['vmImage', 'registry', 'baseImage'], 'a stack on a bootstrapped VM (non-root SSH user, sudo)', () => {
  const service = `vms-deploy-${process.pid}`;
  const registry = () => labInfo<{ address: string; username: string; password: string }>('registry');
  const pushedImage = () => `${registry().address}/vms/web:${process.pid}`;
  const localImage = `kamal-dev-vms-skip:${process.pid}`;
  const secrets: Record<string, string> = {};
  const activities = createVmActivities({ resolveSecret: async (name) => secrets[name], verifyTimeoutMs: 60_000, logTail: 20 });
  let project: { dir: string; keyPath: string };
  let vm: VmHandle;
  let pool: SshPool;
  let session: SshSession;
  const cleanups: (() => Promise<void>)[] = [];

  const plan = (stack: Parameters<typeof testPlan>[0]['stack'], extra: Partial<Parameters<typeof testPlan>[0]> = {}) =>
    testPlan({
      projectDir: project.dir,
      keyPath: project.keyPath,
      service,
      user: 'dev',
      registry: { server: registry().address, namespace: 'vms', local: false, usernameSecret: 'REG_USER', passwordSecret: 'REG_PASS' },
      stack,
      ...extra,
    });
  const healthy = (command: string[]) => ({ test: ['CMD', ...command], interval: '1s', timeout: '2s', retries: 2 });

  beforeAll(async () => {
    Object.assign(secrets, { REG_USER: registry().username, REG_PASS: registry().password, DB_PASSWORD: HOSTILE_SECRET, WRONG_PASS: 'not-the-password', CMD_TOKEN: 'cmd-token-value' });
    project = await testProject('deploy');
    const dockerfile = 'FROM debian:bookworm-slim\nCMD ["sh", "-c", "echo service-log-marker; exec sleep infinity"]\n';
    await buildTestImage(pushedImage(), dockerfile);
    await buildTestImage(localImage, dockerfile.replace('service-log-marker', 'skip-push-marker'));
    const dockerConfig = mkdtempSync(join(tmpdir(), 'kamal-dev-vms-docker-config-'));
    const env = { ...process.env, DOCKER_CONFIG: dockerConfig };
    await sh(['docker', 'login', registry().address, '--username', registry().username, '--password-stdin'], { input: registry().password, env });
    await sh(['docker', 'push', pushedImage()], { env });
    vm = await activities.provisionVm({ plan: plan({}), vm: { deployment: service, name: `${service}-1`, index: 1 }, createdBy: 'vm-deploy-test' });
    await activities.waitForSsh({ plan: plan({}), vm });
    pool = new SshPool({ privateKeyPath: project.keyPath, knownHostsFile: knownHostsFile(plan({})) });
    session = await pool.session(vm.ssh);
  });

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await pool?.closeAll();
    await activities.close();
    await destroyDeployment(service);
    await sh(['docker', 'rmi', '-f', pushedImage(), localImage]).catch(() => undefined);
  });

  it('bootstraps Docker + Compose v2 on a VM without Docker; a second run changes nothing', async () => {
    expect((await session.exec(['sh', '-c', 'command -v docker'])).exitCode).not.toBe(0);
    const first = await activities.bootstrapVm({ plan: plan({}), vm });
    expect(first).toMatchObject({ installed: true, docker: expect.stringMatching(/^20\./), compose: expect.stringMatching(/^v?2\./) });
    const dpkgStatus = ['stat', '-c', '%Y', '/var/lib/dpkg/status'];
    const before = (await session.run(dpkgStatus)).stdout;
    const second = await activities.bootstrapVm({ plan: plan({}), vm });
    expect(second).toEqual({ ...first, installed: false });
    expect((await session.run(dpkgStatus)).stdout).toBe(before);
    expect((await session.run(['whoami'])).stdout.trim()).toBe('dev');
  });

  it('uploads a stack, pulls it through the registry tunnel with login, brings it up and verifies it healthy', async () => {
    const local = mkdtempSync(join(tmpdir(), 'kamal-dev-vms-project-'));
    chmodSync(local, 0o755); // tar carries the folder's mode over; mkdtemp's 0700 would lock the service user out
    writeFileSync(join(local, 'app.env'), 'GREETING=hello\n');
    mkdirSync(join(local, 'src'));
    writeFileSync(join(local, 'src', 'main.txt'), 'source\n');
    mkdirSync(join(local, 'node_modules'));
    writeFileSync(join(local, 'node_modules', 'big.txt'), 'excluded\n');
    mkdirSync(join(local, '.kamal'));
    writeFileSync(join(local, '.kamal', 'secrets'), 'NEVER=copied\n');
    const stackPlan = plan({
      projectName: `${service}-ok`,
      compose: {
        services: {
          app: {
            image: pushedImage(),
            user: '65534', // healthchecks exec into a non-root process: needs SYS_PTRACE on the VM
            env_file: ['app.env'],
            // How the spec layer's transform refers to a secret: Compose interpolates it from secrets.env.
            environment: { DB_PASSWORD: '${DB_PASSWORD}' },
            volumes: ['./workspace:/workspace'],
            healthcheck: healthy(['test', '-f', '/workspace/src/main.txt']),
          },
          sidecar: { image: pushedImage() },
        },
      },
      files: [{ source: join(local, 'app.env'), target: 'app.env' }],
      workspace: { source: local, target: 'workspace', exclude: ['node_modules'] },
      secrets: ['DB_PASSWORD'],
    });

    const { stackDir } = await activities.uploadStack({ plan: stackPlan, vm });
    expect(stackDir).toBe(`/opt/kamal-dev/${service}-ok`);
    const listing = (await session.run(['find', stackDir, '-printf', '%P %m\\n'])).stdout;
    expect(listing).toContain('secrets.env 600');
    expect(listing).toContain('workspace/src/main.txt');
    expect(listing).not.toContain('node_modules');
    expect(listing).not.toContain('.kamal');

    // What is not built comes down first, while the source machine would still build; composeUp pulls the rest.
    // The VM has never run this stack: the sidecar, which needs nothing from the stack folder, starts at once.
    expect(await activities.pullImages({ plan: stackPlan, vm, services: ['sidecar'] })).toEqual({ started: ['sidecar'] });
    expect((await session.exec(['docker', 'image', 'inspect', '--format', '{{.Id}}', pushedImage()], { root: true })).exitCode).toBe(0);
    const sidecarId = async () => (await session.run(['docker', 'ps', '-q', '--no-trunc', '--filter', `label=com.docker.compose.project=${service}-ok`, '--filter', 'label=com.docker.compose.service=sidecar'], { root: true })).stdout.trim();
    expect(await sidecarId()).not.toBe('');
    // A deploy that fails before its swap takes the early services away again (their volumes stay).
    expect(await activities.rollbackStack({ plan: stackPlan, vm, release: 'early-test' })).toEqual({ rolledBack: false });
    expect(await sidecarId()).toBe('');
    expect(await activities.pullImages({ plan: stackPlan, vm, services: ['sidecar'] })).toEqual({ started: ['sidecar'] });
    const earlySidecar = await sidecarId();
    await activities.composeUp({ plan: stackPlan, vm, skipPush: false, pulled: ['sidecar'] });
    // up found it running with the same configuration: the same container, and no early file left behind.
    expect(await sidecarId()).toBe(earlySidecar);
    expect((await session.exec(['test', '-e', `/opt/kamal-dev/${service}-ok/early.yaml`])).exitCode).toBe(1);
    // With a live stack nothing starts before the swap.
    expect(await activities.pullImages({ plan: stackPlan, vm, services: ['sidecar'] })).toEqual({ started: [] });
    // The login went to a throwaway Docker config, removed after the pull: none stays in root's.
    const configs = await session.exec(['sh', '-c', 'ls -d /tmp/kamal-dev-docker-config.* /root/.docker/config.json 2>/dev/null; cat /root/.docker/config.json 2>/dev/null'], { root: true });
    expect(configs.stdout).not.toContain('kamal-dev-docker-config');
    expect(configs.stdout).not.toContain(registry().address);
    const containers = await activities.verifyStack({ plan: stackPlan, vm });
    expect(containers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: 'app', state: 'running', health: 'healthy' }),
        expect.objectContaining({ service: 'sidecar', state: 'running' }),
      ]),
    );
    const app = containers.find((c) => c.service === 'app')!;
    const env = await session.run(['docker', 'exec', app.name, 'printenv', 'DB_PASSWORD', 'GREETING'], { root: true });
    expect(env.stdout).toBe(`${HOSTILE_SECRET}\nhello\n`);
    expect((await session.exec(['test', '-e', '/tmp/pwned'])).exitCode).toBe(1);
    // The tunnel is closed once the VM has pulled.
    expect((await session.exec(['sh', '-c', `ss -ltn | grep -q ':${registry().address.split(':')[1]} '`])).exitCode).toBe(1);
    expect(readState(stateFilePath(project.dir)).deployments[vm.name].containers).toHaveLength(2);
    expect(await activities.stackStatus({ plan: stackPlan, vm })).toHaveLength(2);

    await activities.removeStack({ plan: stackPlan, vm });
    expect((await session.exec(['test', '-e', stackDir])).exitCode).toBe(1);
    expect(await activities.stackStatus({ plan: stackPlan, vm })).toEqual([]);
  });

  it('fails verify with the failing service logs when a healthcheck fails', async () => {
    const badPlan = plan({
      projectName: `${service}-bad`,
      compose: { services: { bad: { image: pushedImage(), healthcheck: healthy(['false']) }, good: { image: pushedImage() } } },
    });
    await activities.uploadStack({ plan: badPlan, vm });
    await activities.composeUp({ plan: badPlan, vm, skipPush: false });
    const failure = await activities.verifyStack({ plan: badPlan, vm }).catch((e) => e);
    expect(failure).toMatchObject({ type: 'StackUnhealthy', nonRetryable: true });
    expect(failure.message).toMatch(/bad \(running, unhealthy\)/);
    expect(failure.message).toContain('service-log-marker');
    expect(failure.message).not.toContain('\x1b');
    expect(failure.message).not.toMatch(/good \(/);
    await activities.removeStack({ plan: badPlan, vm });
  });

  it('a dependency that turns unhealthy during up fails it at once, naming the container with its last log lines', async () => {
    const sick = plan({
      projectName: `${service}-sick`,
      compose: { services: { db: { image: pushedImage(), healthcheck: healthy(['false']) }, app: { image: pushedImage(), depends_on: { db: { condition: 'service_healthy' } } } } },
    });
    await activities.uploadStack({ plan: sick, vm });
    const failure = await activities.composeUp({ plan: sick, vm, skipPush: false }).catch((e) => e);
    // Compose waited out the healthcheck already: retrying would wait the same way.
    expect(failure).toMatchObject({ type: 'StackUnhealthy', nonRetryable: true });
    const db = `${service}-sick-db-1`;
    expect(failure.message).toMatch(new RegExp(`^docker compose up failed on ${vm.name}: .*container ${db} is unhealthy\nlast log lines of ${db}:\n  service-log-marker`));
    await activities.removeStack({ plan: sick, vm });
  });

  it('a refused registry login is a non-retryable RegistryAuth failure that shows no password', async () => {
    const wrong = plan({ projectName: `${service}-auth`, compose: { services: { app: { image: pushedImage() } } } }, {
      registry: { server: registry().address, namespace: 'vms', local: false, usernameSecret: 'REG_USER', passwordSecret: 'WRONG_PASS' },
    });
    await activities.uploadStack({ plan: wrong, vm });
    const failure = await activities.composeUp({ plan: wrong, vm, skipPush: false }).catch((e) => e);
    expect(failure).toMatchObject({ type: 'RegistryAuth', nonRetryable: true });
    expect(failure.message).not.toContain('not-the-password');
    await activities.removeStack({ plan: wrong, vm });
  });

  it('with skipPush streams the built image to the VM instead of pulling it', async () => {
    const skipPlan = plan(
      { projectName: `${service}-skip`, compose: { services: { app: { image: localImage } } } },
      {
        registry: { server: 'localhost:5555', namespace: 'vms', local: true },
        builds: [{ service: 'app', context: '.', dockerfile: 'Dockerfile', args: {}, secrets: [], cacheFrom: [], image: localImage }],
      },
    );
    await activities.uploadStack({ plan: skipPlan, vm });
    await activities.composeUp({ plan: skipPlan, vm, skipPush: true });
    expect(await activities.verifyStack({ plan: skipPlan, vm })).toEqual([expect.objectContaining({ service: 'app', state: 'running' })]);
    const logs = await session.run(['docker', 'logs', `${service}-skip-app-1`], { root: true });
    expect(logs.stdout).toContain('skip-push-marker');
    await activities.removeStack({ plan: skipPlan, vm });
  });

  it("a feature's entrypoint runs before the image's own ENTRYPOINT and CMD, as in the reference CLI's container", async () => {
    const name = `${service}-ep`;
    const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-vms-entrypoint-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    cpSync(resolve(__dirname, '../fixtures/image-entrypoint'), join(dir, '.devcontainer'), { recursive: true });
    writeFileSync(join(dir, '.devcontainer/devcontainer.json'), JSON.stringify({ dockerComposeFile: 'compose.yml', service: 'app', workspaceFolder: '/workspace', features: { './starter': {} } }));
    // Neither entrypoint nor command: the image's own are the ones to wrap. The name keeps the reference's compose project apart.
    writeFileSync(join(dir, '.devcontainer/compose.yml'), `name: ${name}\nservices:\n  app:\n    build: {context: ., dockerfile: Dockerfile}\n`);
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config/dev.yml'), `service: ${name}\n`);
    const resolved = await resolveSpec({ projectDir: dir, tag: 'ep', env: { PATH: process.env.PATH, HOME: '/home/dev' } });
    expect(resolved.warnings).toEqual([]);
    expect(resolved.plan.stack.imageEntrypoint).toEqual({ withCmd: true });
    cleanups.push(() => removeBuildImages(name).then(() => undefined));
    await buildImages(resolved.plan, { buildId: name, resolveSecret: () => '', checkCredentials: false });
    const epPlan = plan(resolved.plan.stack, { registry: { server: 'localhost:5555', namespace: 'vms', local: true }, builds: resolved.plan.builds });
    await activities.uploadStack({ plan: epPlan, vm });
    await activities.composeUp({ plan: epPlan, vm, skipPush: true });
    const ours = `${name}-app-1`;
    const onVm = (argv: string[]) => session.run(argv, { root: true }).then((r) => r.stdout.trim());

    const label = `kamal-dev-test.entrypoint=${name}`;
    cleanups.push(() => removeReferenceContainers(label, name));
    await sh([REFERENCE_CLI, 'up', '--workspace-folder', dir, '--id-label', label, '--skip-post-create'], { timeoutMs: 600_000 });
    const reference = await sh(['docker', 'ps', '-q', '--filter', `label=${label}`]);

    const startConfig = async (inspect: (argv: string[]) => Promise<string>, container: string) => {
      const config = JSON.parse(await inspect(['docker', 'inspect', '--format', '{{json .Config}}', container])) as { Entrypoint: string[]; Cmd: string[] };
      // The reference writes its script as a folded YAML string: each line after the first starts with a space.
      return { entrypoint: config.Entrypoint.map((arg) => arg.replace(/\n /g, '\n')), cmd: config.Cmd };
    };
    const script = 'echo Container started\ntrap "exit 0" 15\n/usr/local/share/starter-init.sh\nexec "$@"\nwhile sleep 1 & wait $!; do :; done';
    expect(await startConfig(onVm, ours)).toEqual({
      entrypoint: ['/bin/sh', '-c', script, '-', '/usr/local/bin/image-entrypoint.sh', '--from-image'],
      cmd: ['sh', '-c', 'echo "cmd $GREETING" >> /tmp/started; exec sleep infinity'],
    });
    expect(await startConfig(sh, reference)).toEqual(await startConfig(onVm, ours));
    const startedIn = (inspect: (argv: string[]) => Promise<string>, container: string) =>
      inspect(['docker', 'exec', container, 'sh', '-c', 'for i in $(seq 150); do [ -f /tmp/started ] && [ "$(wc -l < /tmp/started)" -ge 3 ] && break; sleep 0.2; done; cat /tmp/started']);
    const expected = 'feature entrypoint as root\nimage entrypoint --from-image\ncmd from-image';
    expect(await startedIn(onVm, ours)).toBe(expected);
    expect(await startedIn(sh, reference)).toBe(expected);
    await activities.removeStack({ plan: epPlan, vm });
  });

  it('runs postCreateCommand once per container and postStartCommand once per start, with remoteEnv, in the workspace folder', async () => {
    const local = { registry: { server: 'localhost:5555', namespace: 'vms', local: true }, builds: [{ service: 'app', context: '.', dockerfile: 'Dockerfile', args: {}, secrets: [], cacheFrom: [], image: localImage }] };
    const projectName = `${service}-cmds`;
    const lifecycle = {
      workdir: '/usr',
      user: 'nobody',
      env: { GREETING: "it's $(not run)", AUTH: 'Bearer __KAMAL_DEV_SECRET_CMD_TOKEN__' },
      // A secret in remoteEnv and in the command, as the spec layer leaves them (placeholders).
      postCreate: [{ shell: 'echo "$GREETING $(pwd) $(id -un)" >> /tmp/created; echo "$AUTH __KAMAL_DEV_SECRET_CMD_TOKEN__" > /tmp/secrets' }],
      secrets: ['CMD_TOKEN'],
      postStart: [
        { name: 'count', argv: ['sh', '-c', 'echo start >> /tmp/started'] },
        { name: 'touch', argv: ['touch', '/tmp/touched'] },
      ],
    };
    const cmdPlan = plan({ projectName, compose: { services: { app: { image: localImage } } }, lifecycle }, local);
    const inApp = (command: string[]) => session.run(['docker', 'exec', `${projectName}-app-1`, ...command], { root: true }).then((r) => r.stdout);
    await activities.uploadStack({ plan: cmdPlan, vm });
    await activities.composeUp({ plan: cmdPlan, vm, skipPush: true });
    await activities.verifyStack({ plan: cmdPlan, vm });

    expect(await activities.runDevcontainerCommands({ plan: cmdPlan, vm })).toEqual({ ran: ['postCreateCommand', 'postStartCommand'] });
    expect(await activities.runDevcontainerCommands({ plan: cmdPlan, vm })).toEqual({ ran: [] });
    expect(await inApp(['cat', '/tmp/created'])).toBe("it's $(not run) /usr nobody\n");
    expect(await inApp(['cat', '/tmp/secrets'])).toBe(`Bearer ${secrets.CMD_TOKEN} ${secrets.CMD_TOKEN}\n`);
    expect((await session.exec(['ls', `/opt/kamal-dev/${projectName}`])).stdout).not.toContain('lifecycle.env');
    await session.run(['docker', 'restart', `${projectName}-app-1`], { root: true });
    expect(await activities.runDevcontainerCommands({ plan: cmdPlan, vm })).toEqual({ ran: ['postStartCommand'] });
    expect(await inApp(['cat', '/tmp/started', '/tmp/created'])).toBe("start\nstart\nit's $(not run) /usr nobody\n");

    // A new container (here: the old one removed) runs postCreateCommand again; this one fails.
    await session.run(['docker', 'rm', '-f', `${projectName}-app-1`], { root: true });
    await activities.composeUp({ plan: cmdPlan, vm, skipPush: true });
    const failing = plan({ projectName, compose: { services: { app: { image: localImage } } }, lifecycle: { ...lifecycle, postCreate: [{ shell: 'echo "compiling with $AUTH"; echo "boom: no such table" >&2; exit 3' }] } }, local);
    const failure = await activities.runDevcontainerCommands({ plan: failing, vm }).catch((e) => e);
    expect(failure).toMatchObject({ type: 'DevcontainerCommandFailed', nonRetryable: true });
    expect(failure.message).toBe(`postCreateCommand failed on ${vm.name} (exit code 3): boom: no such table`);
    expect(JSON.stringify(failure.details)).toContain('compiling with Bearer [REDACTED]');
    await activities.removeStack({ plan: cmdPlan, vm });
  });

  it('runs every hook in the spec order, features first; a hook after waitFor fails without failing the VM, recorded for status until it succeeds', async () => {
    const local = { registry: { server: 'localhost:5555', namespace: 'vms', local: true }, builds: [{ service: 'app', context: '.', dockerfile: 'Dockerfile', args: {}, secrets: [], cacheFrom: [], image: localImage }] };
    const projectName = `${service}-hooks`;
    const log = (word: string) => ({ shell: `echo ${word} >> /tmp/hooks` });
    const lifecycle = {
      workdir: '/',
      env: {},
      onCreate: [{ ...log('feature-create'), feature: 'f' }, log('create')],
      updateContent: [log('update')],
      postCreate: [log('post-create')],
      postStart: [{ shell: 'echo start >> /tmp/hooks; echo "token __KAMAL_DEV_SECRET_CMD_TOKEN__"; echo "port busy" >&2; exit 5' }],
      postAttach: [log('attach')],
      secrets: ['CMD_TOKEN'],
    };
    const hooksPlan = plan({ projectName, compose: { services: { app: { image: localImage } } }, lifecycle }, local);
    await activities.uploadStack({ plan: hooksPlan, vm });
    await activities.composeUp({ plan: hooksPlan, vm, skipPush: true });
    await activities.verifyStack({ plan: hooksPlan, vm });
    expect(await activities.commandFailures({ plan: hooksPlan, vm })).toEqual([]);
    expect(await activities.runDevcontainerCommands({ plan: hooksPlan, vm })).toEqual({
      ran: ['onCreateCommand', 'updateContentCommand', 'postCreateCommand'],
      failed: [`postStartCommand failed on ${vm.name} (exit code 5): port busy`],
    });
    const hooks = await session.run(['docker', 'exec', `${projectName}-app-1`, 'cat', '/tmp/hooks'], { root: true });
    expect(hooks.stdout).toBe('feature-create\ncreate\nupdate\npost-create\nstart\n');

    // What `status` shows: the failure as recorded on the VM, with its last lines and no secret value.
    expect(await activities.commandFailures({ plan: hooksPlan, vm })).toEqual([{ hook: 'postStartCommand', exitCode: 5, lines: ['token [REDACTED]', 'port busy'], at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }]);
    expect((await session.exec(['grep', '-r', secrets.CMD_TOKEN, `/opt/kamal-dev/${projectName}`], { root: true })).exitCode).toBe(1);
    // The same start: postStartCommand does not run again, and its failure still stands.
    expect(await activities.runDevcontainerCommands({ plan: hooksPlan, vm })).toEqual({ ran: [] });
    expect(await activities.commandFailures({ plan: hooksPlan, vm })).toHaveLength(1);
    // The next start runs it again; it succeeds, and the failure is gone.
    await session.run(['docker', 'restart', `${projectName}-app-1`], { root: true });
    const fixed = plan({ projectName, compose: { services: { app: { image: localImage } } }, lifecycle: { ...lifecycle, postStart: [log('start')] } }, local);
    expect(await activities.runDevcontainerCommands({ plan: fixed, vm })).toEqual({ ran: ['postStartCommand'] });
    expect(await activities.commandFailures({ plan: fixed, vm })).toEqual([]);
    await activities.removeStack({ plan: hooksPlan, vm });
    expect(await activities.commandFailures({ plan: hooksPlan, vm })).toEqual([]);
  });

  it('ssh provider: claims the VM as an existing host, marks it, deploys, and destroy leaves the host', async () => {
    const sshService = `${service}-ssh`;
    const sshPlan = (projectDir = project.dir) => ({
      ...testPlan({ projectDir, keyPath: project.keyPath, service: sshService, user: 'dev', stack: { projectName: sshService, compose: { services: { app: { image: pushedImage() } } } } }),
      registry: plan({}).registry,
      provider: { type: 'ssh' as const, hosts: [{ host: vm.ssh.host, port: vm.ssh.port, user: 'dev' }] },
    });
    const ref = (i: number) => ({ deployment: sshService, name: `${sshService}-${i}`, index: i });
    const marker = async () => (await session.exec(['cat', HOST_MARKER], { root: true })).stdout;
    const host = await activities.provisionVm({ plan: sshPlan(), vm: ref(1), createdBy: 'ssh-run' });
    expect(host).toMatchObject({ provider: 'ssh', ssh: vm.ssh, ip: '127.0.0.1', created: true });
    expect(await activities.provisionVm({ plan: sshPlan(), vm: ref(1), createdBy: 'ssh-run' })).toEqual(host);
    await expect(activities.provisionVm({ plan: sshPlan(), vm: ref(2) })).rejects.toMatchObject({ type: 'ProviderError', nonRetryable: true });
    const claim = { name: ref(1).name, project: sshPlan().identity, created_by: 'ssh-run' };
    expect(readState(stateFilePath(project.dir)).ssh_claims).toEqual({ [`127.0.0.1:${vm.ssh.port}`]: claim });
    const labels = { 'kamal-dev.service': sshService, 'kamal-dev.deployment': sshService, 'kamal-dev.index': '1' };
    expect(await marker()).toBe(markerText({ project: claim.project, name: claim.name, labels: { ...labels, 'kamal-dev.created-by': 'ssh-run' } }));

    // Another checkout that lists the same host reads the marker and never claims it.
    const twin = sshPlan(mkdtempSync(join(tmpdir(), 'kamal-dev-vms-twin-')));
    await expect(activities.provisionVm({ plan: twin, vm: ref(1), createdBy: 'twin-run' })).rejects.toMatchObject({
      message: expect.stringMatching(/already in use \(1 hosts; 1 of them held by another kamal-dev project/),
    });
    expect(readState(stateFilePath(twin.projectDir)).ssh_claims).toEqual({});
    expect(await activities.listVms({ plan: twin })).toEqual([]);

    await activities.uploadStack({ plan: sshPlan(), vm: host });
    await activities.composeUp({ plan: sshPlan(), vm: host, skipPush: false });
    expect(await activities.verifyStack({ plan: sshPlan(), vm: host })).toHaveLength(1);
    // A later deploy's compensation found the claim: it gives nothing back.
    expect(await activities.destroyVm({ plan: sshPlan(), vm: ref(1), createdBy: 'a-later-run' })).toEqual({ outcome: 'kept' });
    expect((await session.exec(['test', '-e', `/opt/kamal-dev/${sshService}/compose.yaml`])).exitCode).toBe(0);

    // Adopted by the other checkout, the host is its own: the first one's operations refuse it.
    expect(await activities.adoptVm({ plan: twin, name: ref(1).name })).toMatchObject({ name: ref(1).name, ssh: vm.ssh });
    expect(await marker()).toBe(markerText({ project: twin.identity, name: ref(1).name, labels }));
    await expect(activities.stopVm({ plan: sshPlan(), vm: ref(1) })).rejects.toMatchObject({ message: expect.stringMatching(/belongs to another kamal-dev project/) });
    await activities.adoptVm({ plan: sshPlan(), name: ref(1).name });

    expect(await activities.destroyVm({ plan: sshPlan(), vm: ref(1) })).toEqual({ outcome: 'destroyed' });
    expect((await session.exec(['test', '-e', `/opt/kamal-dev/${sshService}`])).exitCode).toBe(1);
    expect((await session.exec(['test', '-e', HOST_MARKER])).exitCode).toBe(1);
    expect((await session.run(['docker', 'ps', '-aq', '--filter', `label=com.docker.compose.project=${sshService}`], { root: true })).stdout).toBe('');
    expect((await session.run(['true'])).exitCode).toBe(0); // the host is still there
    expect(await activities.listVms({ plan: sshPlan() })).toEqual([]);
  });
});
