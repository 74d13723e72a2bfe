import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmHandle } from '../../src/domain/vm';
import { createBuildActivities } from '../../src/activities/build';
import { createVmActivities } from '../../src/activities/vm';
import { seedRepository } from '../../src/images/seed';
import { RegistryWriter } from '../../src/registry/blobs';
import { hostPattern, knownHostsFile, recordedHostKeys } from '../../src/ssh/knownHosts';
import type { DeployPlan, LifecyclePlan, StackPlan, WorkspaceSeed } from '../../src/spec/plan';
import { SshPool } from '../../src/ssh/pool';
import { UP_MARK } from '../../src/remote/standingStack';
import type { SshSession } from '../../src/ssh/session';
import { msToNumber } from '@temporalio/common/lib/time';
import { MockActivityEnvironment } from '@temporalio/testing';
import { profile } from '../../src/workflows/policies';
import { sh } from '../lab/exec';
import { describeWithLab, labInfo } from '../support/lab';
import { writeFiles } from '../support/faults';
import { buildTestImage, destroyDeployment, testPlan, testProject } from '../support/vms';

/** A project folder as on the laptop: sources, an ignored build folder, and .kamal/ (never copied). */
const LAPTOP_TREE = {
  'hello.txt': 'from the laptop\n',
  'src/main.txt': 'source\n',
  '.gitignore': 'build/\n',
  'build/out.bin': 'build output\n',
  '.kamal/secrets': 'NEVER=copied\n',
};

jest.setTimeout(900_000);

/**
 * Redeploys of an app + Postgres stack on one real VM (non-root SSH user): each failing redeploy
 * leaves the database row, the files written on the VM and the running containers as they were.
 * The scenarios share the first deploy, in order.
 */
describeWithLab(['vmImage', 'registry', 'postgres'], 'redeploy of a stack on a VM', () => {
  const service = `vms-redeploy-${process.pid}`;
  const registry = () => labInfo<{ address: string; username: string; password: string }>('registry');
  const image = (tag: string) => `${registry().address}/vms/redeploy-app:${tag}-${process.pid}`;
  const secrets: Record<string, string> = {};
  const activities = createVmActivities({ resolveSecret: async (name) => secrets[name], verifyTimeoutMs: 60_000, logTail: 10 });
  const stackDir = `/opt/kamal-dev/${service}`;
  const remoteWorkspace = `${stackDir}/workspaces/proj`;
  let project: { dir: string; keyPath: string };
  let local: string;
  let vm: VmHandle;
  let pool: SshPool;
  let session: SshSession;
  let releases = 0;

  const lifecycle: LifecyclePlan = { workdir: '/workspace', env: {}, postCreate: [{ shell: 'echo created >> /workspace/created.log' }], postStart: [] };
  /** The stack as the spec layer would transform it: app (v1 or v2) with the workspace mounted, and Postgres with a named volume. */
  const stack = (app: { image: string; healthcheck?: string[]; rev: string }, extra: Partial<StackPlan> = {}): DeployPlan =>
    testPlan({
      projectDir: project.dir,
      keyPath: project.keyPath,
      service,
      user: 'dev',
      registry: { server: registry().address, namespace: 'vms', local: false, usernameSecret: 'REG_USER', passwordSecret: 'REG_PASS' },
      stack: {
        compose: {
          services: {
            app: {
              image: app.image,
              init: true,
              environment: { REV: app.rev },
              volumes: [{ type: 'bind', source: remoteWorkspace, target: '/workspace' }],
              healthcheck: { test: ['CMD', ...(app.healthcheck ?? ['test', '-f', '/workspace/hello.txt'])], interval: '1s', timeout: '2s', retries: 2 },
              depends_on: { db: { condition: 'service_healthy' } },
            },
            db: {
              image: labInfo<{ pushed: string }>('postgres').pushed,
              environment: { POSTGRES_PASSWORD: '${DB_PASSWORD}' },
              volumes: ['pgdata:/var/lib/postgresql/data'],
              healthcheck: { test: ['CMD-SHELL', 'pg_isready -U postgres'], interval: '1s', timeout: '3s', retries: 30 },
            },
          },
          volumes: { pgdata: {} },
        },
        secrets: ['DB_PASSWORD'],
        workspace: { source: local, target: 'workspaces/proj', exclude: ['.kamal', 'node_modules'] },
        lifecycle,
        ...extra,
      },
    });
  const v1 = () => stack({ image: image('v1'), rev: '1' });

  /** The deploy's VM steps in the workflow's order, with its rollback compensation on failure. */
  async function deploy(plan: DeployPlan): Promise<{ error?: { type?: string; message: string }; rolledBack?: boolean }> {
    const release = `release-${++releases}`;
    try {
      await activities.uploadStack({ plan, vm });
      await activities.composeUp({ plan, vm, skipPush: false, release });
      await activities.verifyStack({ plan, vm });
      await activities.runDevcontainerCommands({ plan, vm });
      return {};
    } catch (error) {
      const { rolledBack } = await activities.rollbackStack({ plan, vm, release });
      return { error: error as Error, rolledBack };
    }
  }

  const onVm = async (command: string[]) => (await session.run(command, { root: true })).stdout.trim();
  const compose = (...args: string[]) => onVm(['docker', 'compose', '-p', service, '--project-directory', stackDir, '-f', `${stackDir}/compose.yaml`, '--env-file', `${stackDir}/secrets.env`, ...args]);
  const psql = (sql: string) => compose('exec', '-T', 'db', 'psql', '-U', 'postgres', '-Atc', sql);
  let before: { composeFile: string; appImage: string; dbContainer: string };

  /** What the first deploy left, plus the developer's row and files, exactly as they were. */
  async function expectUntouched(): Promise<void> {
    expect(await psql('select note from notes')).toBe('kept across redeploys');
    expect(await onVm(['cat', `${remoteWorkspace}/vm-only.txt`, `${remoteWorkspace}/hello.txt`])).toBe('written on the VM\nedited on the VM');
    expect(await onVm(['cat', `${stackDir}/compose.yaml`])).toBe(before.composeFile);
    const states = JSON.parse(`[${(await compose('ps', '--format', 'json')).split('\n').join(',')}]`) as { Service: string; State: string; Health: string }[];
    expect(states.map((s) => [s.Service, s.State, s.Health]).sort()).toEqual([['app', 'running', 'healthy'], ['db', 'running', 'healthy']]);
    expect(await onVm(['docker', 'inspect', '--format', '{{.Image}}', `${service}-app-1`])).toBe(before.appImage);
    expect(await compose('exec', '-T', 'app', 'printenv', 'REV')).toBe('1');
    // postCreateCommand ran once, at the first deploy: not in a failed redeploy's container, nor in a rolled-back one.
    expect(await onVm(['cat', `${remoteWorkspace}/created.log`])).toBe('created');
  }

  beforeAll(async () => {
    Object.assign(secrets, { REG_USER: registry().username, REG_PASS: registry().password, DB_PASSWORD: 'redeploy-pg-pass' });
    project = await testProject('redeploy');
    local = mkdtempSync(join(tmpdir(), 'kamal-dev-vms-redeploy-src-'));
    writeFiles(local, { ...LAPTOP_TREE, '.kamal-dev-ignore': 'notes/\n', 'notes/private.txt': 'mine\n' });
    await sh(['git', '-C', local, 'init', '-q']);

    const dockerfile = (marker: string) => `FROM debian:bookworm-slim\nCMD ["sh", "-c", "echo ${marker}; exec sleep infinity"]\n`;
    await buildTestImage(image('v1'), dockerfile('v1'));
    await buildTestImage(image('v2'), dockerfile('v2'));
    const env = { ...process.env, DOCKER_CONFIG: mkdtempSync(join(tmpdir(), 'kamal-dev-vms-docker-config-')) };
    await sh(['docker', 'login', registry().address, '--username', registry().username, '--password-stdin'], { input: registry().password, env });
    for (const tag of ['v1', 'v2']) await sh(['docker', 'push', '-q', image(tag)], { env });
    vm = await activities.provisionVm({ plan: v1(), vm: { deployment: service, name: `${service}-1`, index: 1 } });
    await activities.waitForSsh({ plan: v1(), vm });
    await activities.bootstrapVm({ plan: v1(), vm });
    pool = new SshPool({ privateKeyPath: project.keyPath, knownHostsFile: knownHostsFile(v1()) });
    session = await pool.session(vm.ssh);
  });

  afterAll(async () => {
    await pool?.closeAll();
    await activities.close();
    await destroyDeployment(service);
    await sh(['docker', 'rmi', '-f', image('v1'), image('v2')]).catch(() => undefined);
    for (const dir of [project?.dir, local]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the first deploy seeds the workspace copy: .gitignore, .kamal-dev-ignore, .git and .kamal stay behind', async () => {
    expect(await deploy(v1())).toEqual({});
    const listing = (await onVm(['find', remoteWorkspace, '-printf', '%P\\n'])).split('\n').sort();
    expect(listing).toEqual(expect.arrayContaining(['hello.txt', 'src/main.txt', '.gitignore', '.kamal-dev-ignore', 'created.log']));
    expect(listing.filter((p) => /^(build|notes|\.git|\.kamal)(\/|$)/.test(p))).toEqual([]);
    expect(await onVm(['stat', '-c', '%U', `${remoteWorkspace}/hello.txt`])).toBe('dev');

    await psql('create table notes (note text)');
    await psql("insert into notes values ('kept across redeploys')");
    await onVm(['sh', '-c', `echo 'written on the VM' > ${remoteWorkspace}/vm-only.txt; echo 'edited on the VM' > ${remoteWorkspace}/hello.txt`]);
    before = {
      composeFile: await onVm(['cat', `${stackDir}/compose.yaml`]),
      appImage: await onVm(['docker', 'inspect', '--format', '{{.Image}}', `${service}-app-1`]),
      dbContainer: await compose('ps', '-q', 'db'),
    };
    await expectUntouched();
  });

  it('lifecycle steps on a worker without the project pin the host key the source recorded, and refuse a host it never recorded', async () => {
    // A worker elsewhere: its own pool, and the source's folder is not on its machine.
    const elsewhere = createVmActivities({ resolveSecret: async (name) => secrets[name] });
    const fromSource = (hostKeys: Record<string, string>): DeployPlan => ({ ...v1(), projectDir: join(tmpdir(), `kamal-dev-not-here-${process.pid}`), ssh: { ...v1().ssh, hostKeys, knownHostsOnly: true } });
    const recorded = recordedHostKeys(knownHostsFile(v1()));
    const pattern = hostPattern(vm.ssh.host, vm.ssh.port);
    expect(recorded[pattern]).toMatch(/^ssh-ed25519 /);
    try {
      const [listed] = (await elsewhere.listVms({ plan: fromSource(recorded) })).filter((v) => v.name === vm.name);
      const services = async (hostKeys: Record<string, string>) => (await elsewhere.stackStatus({ plan: fromSource(hostKeys), vm: listed })).map((c) => c.service).sort();
      expect(await services(recorded)).toEqual(['app', 'db']);
      await expect(services({ [pattern]: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherMachineOtherKeyOtherMachineOtherKey0' })).rejects.toMatchObject({
        type: 'SshHostKeyChanged',
        message: expect.stringContaining("source machine's .kamal/known_hosts"),
      });
      await expect(services({})).rejects.toMatchObject({ type: 'SshHostKeyUnknown', message: expect.stringContaining(pattern) });
    } finally {
      await elsewhere.close();
    }
  });

  it('a redeploy whose healthcheck fails is rolled back: row, files, images and containers as before', async () => {
    const result = await deploy(stack({ image: image('v2'), rev: '2', healthcheck: ['false'] }));
    expect(result.error).toMatchObject({ type: 'StackUnhealthy' });
    expect(result.rolledBack).toBe(true);
    await expectUntouched();
    // The database container was never replaced: its data volume was not even remounted.
    expect(await compose('ps', '-q', 'db')).toBe(before.dbContainer);
  });

  it('a redeploy whose postCreateCommand fails is rolled back, and the rolled-back container does not run it again', async () => {
    const failing = stack({ image: image('v2'), rev: '2' }, { lifecycle: { ...lifecycle, postCreate: [{ shell: 'echo "boom: no such table" >&2; exit 3' }] } });
    const result = await deploy(failing);
    expect(result.error).toMatchObject({ type: 'DevcontainerCommandFailed' });
    expect(result.rolledBack).toBe(true);
    await expectUntouched();
    expect(await activities.runDevcontainerCommands({ plan: v1(), vm })).toEqual({ ran: [] });
    expect(await onVm(['cat', `${remoteWorkspace}/created.log`])).toBe('created');
  });

  it('a redeploy whose images cannot be pulled changes nothing and has nothing to roll back', async () => {
    const result = await deploy(stack({ image: image('missing'), rev: '2' }));
    expect(result.error).toMatchObject({ type: 'ImageNotFound' });
    expect(result.rolledBack).toBe(false);
    await expectUntouched();
  });

  it('a redeploy keeps the workspace copy; --sync-workspace copies over it (and is rolled back with the rest)', async () => {
    writeFileSync(join(local, 'hello.txt'), 'changed on the laptop\n');
    expect(await deploy(v1())).toEqual({});
    await expectUntouched();

    const sync = (plan: DeployPlan): DeployPlan => ({ ...plan, stack: { ...plan.stack, workspace: { ...plan.stack.workspace!, sync: true } } });
    writeFileSync(join(local, 'hello.txt'), 'synced, then rolled back\n');
    const failed = await deploy(sync(stack({ image: image('v2'), rev: '2', healthcheck: ['false'] })));
    expect(failed.rolledBack).toBe(true);
    await expectUntouched();

    writeFileSync(join(local, 'hello.txt'), 'synced\n');
    expect(await deploy(sync(v1()))).toEqual({});
    expect(await onVm(['cat', `${remoteWorkspace}/hello.txt`, `${remoteWorkspace}/vm-only.txt`])).toBe('synced\nwritten on the VM');
    expect(await onVm(['stat', '-c', '%U', `${remoteWorkspace}/hello.txt`])).toBe('dev');
    expect(await psql('select note from notes')).toBe('kept across redeploys');
  });

  it('a 300 MB workspace goes up in one attempt of the upload profile, heartbeating the bytes sent', async () => {
    const big = mkdtempSync(join(tmpdir(), 'kamal-dev-vms-redeploy-big-'));
    try {
      await sh(['sh', '-c', 'head -c 300M /dev/urandom > "$1"', 'sh', join(big, 'data.bin')]);
      const digest = (await sh(['sha256sum', join(big, 'data.bin')])).split(' ')[0];
      const plan = testPlan({
        projectDir: project.dir,
        keyPath: project.keyPath,
        service: `${service}-big`,
        user: 'dev',
        stack: { compose: { services: {} }, workspace: { source: big, target: 'workspaces/big', exclude: [] } },
      });
      const upload = profile('upload');
      const env = new MockActivityEnvironment({ startToCloseTimeoutMs: msToNumber(upload.startToCloseTimeout!), heartbeatTimeoutMs: msToNumber(upload.heartbeatTimeout!), attempt: 1 });
      const beats: { at: number; step: string; bytes: number; totalBytes: number }[] = [];
      env.on('heartbeat', (details: { step: string; bytes: number; totalBytes: number }) => beats.push({ at: Date.now(), ...details }));
      const started = Date.now();
      const result: Awaited<ReturnType<typeof activities.uploadStack>> = await env.run(activities.uploadStack, { plan, vm });
      expect(result).toMatchObject({ workspace: 'seeded' });
      expect(result.bytes).toBeGreaterThan(300 * 1024 * 1024);
      // A heartbeat within every heartbeat timeout, from the start to the end: the attempt never times out.
      const gaps = [started, ...beats.map((b) => b.at), Date.now()].map((t, i, all) => (i ? t - all[i - 1] : 0));
      expect(Math.max(...gaps)).toBeLessThan(msToNumber(upload.heartbeatTimeout!));
      expect(beats.map((b) => b.bytes)).toEqual([...beats.map((b) => b.bytes)].sort((a, b) => a - b));
      expect(beats.at(-1)).toMatchObject({ step: 'upload', bytes: result.bytes, totalBytes: 300 * 1024 * 1024 });
      expect((await onVm(['sha256sum', `/opt/kamal-dev/${service}-big/workspaces/big/data.bin`])).split(' ')[0]).toBe(digest);
    } finally {
      rmSync(big, { recursive: true, force: true });
      await onVm(['rm', '-rf', `/opt/kamal-dev/${service}-big`]);
    }
  });

  it('an unchanged redeploy leaves the stack running untouched; a stopped container, a changed secret or an `up` cut short bring it up again', async () => {
    const containers = async () => onVm(['sh', '-c', `docker inspect --format '{{.Id}} {{.State.StartedAt}}' $(docker ps -aq --filter label=com.docker.compose.project=${service}) | sort`]);
    const redeploy = async () => {
      const plan = v1();
      await activities.uploadStack({ plan, vm });
      const result = await activities.composeUp({ plan, vm, skipPush: false, release: `release-${++releases}` });
      await activities.verifyStack({ plan, vm });
      return result;
    };
    const [app, db] = [await compose('ps', '-q', 'app'), await compose('ps', '-q', 'db')];
    const running = await containers();
    expect(await redeploy()).toEqual({ unchanged: true });
    expect(await containers()).toEqual(running);

    await onVm(['docker', 'stop', db]);
    expect(await redeploy()).toEqual({ unchanged: false });
    expect([await compose('ps', '-q', 'app'), await compose('ps', '-q', 'db')]).toEqual([app, db]);

    // An `up` that failed or was cut off leaves no mark of what it started.
    await onVm(['rm', `${stackDir}/${UP_MARK}`]);
    expect(await redeploy()).toEqual({ unchanged: false });
    expect(await redeploy()).toEqual({ unchanged: true });

    const password = secrets.DB_PASSWORD;
    try {
      secrets.DB_PASSWORD = 'changed-pg-pass';
      expect(await redeploy()).toEqual({ unchanged: false });
      expect(await compose('ps', '-q', 'db')).not.toBe(db);
      expect(await compose('exec', '-T', 'db', 'printenv', 'POSTGRES_PASSWORD')).toBe('changed-pg-pass');
    } finally {
      secrets.DB_PASSWORD = password;
    }
    expect(await redeploy()).toEqual({ unchanged: false });
    expect(await psql('select note from notes')).toBe('kept across redeploys');
  });

  describe('with the workspace seed (the workspace and the stack files from the registry, as a deploy on another worker has them)', () => {
    const source = createBuildActivities({ secretsFor: () => (name) => secrets[name] });
    const seeded = `${service}-seed`;
    const seededDir = `/opt/kamal-dev/${seeded}`;
    const copy = `${seededDir}/workspaces/proj`;
    let tree: string;
    const seedPlan = (sync = false): DeployPlan =>
      testPlan({
        projectDir: project.dir,
        keyPath: project.keyPath,
        service: seeded,
        user: 'dev',
        registry: { server: registry().address, namespace: 'vms', local: false, usernameSecret: 'REG_USER', passwordSecret: 'REG_PASS' },
        stack: {
          compose: {
            services: {
              app: {
                image: image('v1'),
                init: true,
                env_file: [`${seededDir}/env/1-app.env`],
                volumes: [{ type: 'bind', source: copy, target: '/workspace' }],
                healthcheck: { test: ['CMD', 'test', '-f', '/workspace/hello.txt'], interval: '1s', timeout: '2s', retries: 5 },
              },
            },
          },
          files: [{ source: join(tree, 'app.env'), target: 'env/1-app.env' }],
          workspace: { source: tree, target: 'workspaces/proj', exclude: ['.kamal', 'node_modules'], ...(sync ? { sync: true } : {}) },
        },
      });
    /** The VM steps of a deploy whose workspace travels as a seed, in the workflow's order. */
    async function deployFromSeed(plan: DeployPlan, seed: WorkspaceSeed): Promise<{ workspace?: string }> {
      await activities.uploadStack({ plan, vm, fromSeed: true });
      const result = await activities.seedWorkspace({ plan, vm, seed });
      await activities.composeUp({ plan, vm, skipPush: false, release: `release-${++releases}` });
      await activities.verifyStack({ plan, vm });
      return result;
    }
    let first: WorkspaceSeed;

    beforeAll(() => {
      tree = mkdtempSync(join(tmpdir(), 'kamal-dev-vms-seed-src-'));
      writeFiles(tree, { ...LAPTOP_TREE, 'app.env': 'GREETING=hello from the env file\n' });
    });
    afterAll(async () => {
      await onVm(['sh', '-c', `docker compose -p ${seeded} --project-directory ${seededDir} -f ${seededDir}/compose.yaml down; rm -rf ${seededDir}`]).catch(() => undefined);
      if (tree) rmSync(tree, { recursive: true, force: true });
    });

    it('is content-addressed: an unchanged tree gives the same digest and is not pushed again', async () => {
      first = await source.pushWorkspaceSeed({ plan: seedPlan() });
      expect(first).toMatchObject({ pushed: true, files: 4, image: `${seedRepository(seedPlan())}@${first.digest}` });
      expect(await source.pushWorkspaceSeed({ plan: seedPlan() })).toEqual({ ...first, pushed: false });
    });

    it('a first deploy seeds the copy and the stack files from the registry; .kamal and ignored files stay behind, nothing of the seed stays', async () => {
      expect(await deployFromSeed(seedPlan(), first)).toEqual({ workspace: 'seeded' });
      expect((await onVm(['find', copy, '-printf', '%P\\n'])).split('\n').sort()).toEqual(['.gitignore', 'app.env', 'hello.txt', 'src', 'src/main.txt']);
      expect(await onVm(['stat', '-c', '%U %a', `${copy}/hello.txt`, `${seededDir}/env/1-app.env`])).toBe('dev 644\ndev 600');
      expect(await onVm(['docker', 'exec', `${seeded}-app-1`, 'printenv', 'GREETING'])).toBe('hello from the env file');
      expect(await onVm(['docker', 'ps', '-aq', '--filter', 'label=kamal-dev.seed'])).toBe('');
      expect(await onVm(['docker', 'images', '-q', seedRepository(seedPlan())])).toBe('');
    });

    it('a redeploy with a changed tree pushes a new seed and leaves the copy on the VM alone; --sync-workspace copies over it', async () => {
      await onVm(['sh', '-c', `echo 'edited on the VM' > ${copy}/hello.txt; echo mine > ${copy}/vm-only.txt`]);
      writeFileSync(join(tree, 'hello.txt'), 'changed on the laptop\n');
      const second = await source.pushWorkspaceSeed({ plan: seedPlan() });
      expect(second.pushed).toBe(true);
      expect(second.digest).not.toBe(first.digest);
      expect(await deployFromSeed(seedPlan(), second)).toEqual({ workspace: 'kept' });
      expect(await onVm(['cat', `${copy}/hello.txt`, `${copy}/vm-only.txt`])).toBe('edited on the VM\nmine');

      writeFileSync(join(tree, 'hello.txt'), 'synced\n');
      const third = await source.pushWorkspaceSeed({ plan: seedPlan(true) });
      // Retention: this checkout's seeds before the previous one are deleted from the registry (the lab's allows it).
      const repository = seedRepository(seedPlan());
      const host = repository.split('/')[0];
      const inRegistry = new RegistryWriter(host, repository.slice(host.length + 1), { username: registry().username, password: registry().password });
      const has = (seed: WorkspaceSeed) => inRegistry.hasManifest(seed.digest, 'application/vnd.docker.distribution.manifest.v2+json');
      expect([await has(first), await has(second), await has(third)]).toEqual([false, true, true]);
      expect(await deployFromSeed(seedPlan(true), third)).toEqual({ workspace: 'staged for sync' });
      expect(await onVm(['cat', `${copy}/hello.txt`, `${copy}/vm-only.txt`])).toBe('synced\nmine');
      expect(await onVm(['stat', '-c', '%U', `${copy}/hello.txt`])).toBe('dev');
    });

    it('an unchanged redeploy stages the live stack files again and pulls nothing (no seed, no image), leaving the stack running as it was', async () => {
      /** The images the VM pulled while `work` ran (Docker's own events). */
      const pullsDuring = async (work: () => Promise<unknown>) => {
        const since = await onVm(['sh', '-c', 'sleep 1; date +%s']);
        await work();
        return onVm(['sh', '-c', `sleep 1; docker events --since ${since} --until $(date +%s) --filter type=image --filter event=pull --format '{{.Actor.ID}}'`]);
      };
      writeFileSync(join(tree, 'app.env'), 'GREETING=hello again from the env file\n');
      const changed = await source.pushWorkspaceSeed({ plan: seedPlan() });
      // A changed seed is pulled: the events see a pull.
      expect(await pullsDuring(() => deployFromSeed(seedPlan(), changed))).toContain(seedRepository(seedPlan()));
      const app = await onVm(['docker', 'ps', '-q', '--filter', `name=${seeded}-app-1`]);
      expect(await pullsDuring(async () => expect(await deployFromSeed(seedPlan(), changed)).toEqual({ workspace: 'kept' }))).toBe('');
      expect(await onVm(['docker', 'ps', '-q', '--filter', `name=${seeded}-app-1`])).toBe(app);
      expect(await onVm(['stat', '-c', '%U %a', `${seededDir}/env/1-app.env`])).toBe('dev 600');
      expect(await onVm(['cat', `${seededDir}/.seed`])).toBe(changed.digest);
      expect(await onVm(['docker', 'exec', `${seeded}-app-1`, 'printenv', 'GREETING'])).toBe('hello again from the env file');
    });

    it('costs about what the tar over SSH costs for a small tree (printed, not asserted)', async () => {
      const fresh = `${service}-timing`;
      const timing: DeployPlan = { ...seedPlan(), service: fresh, stack: { ...seedPlan().stack, projectName: fresh } };
      const timed = async (work: () => Promise<unknown>) => {
        const started = Date.now();
        await work();
        await onVm(['rm', '-rf', `/opt/kamal-dev/${fresh}`]);
        return Date.now() - started;
      };
      writeFileSync(join(tree, 'timing.txt'), `${Date.now()}\n`);
      const seedMs = await timed(async () => {
        const seed = await source.pushWorkspaceSeed({ plan: timing });
        await activities.uploadStack({ plan: timing, vm, fromSeed: true });
        expect(await activities.seedWorkspace({ plan: timing, vm, seed })).toEqual({ workspace: 'seeded' });
      });
      const tarMs = await timed(async () => expect(await activities.uploadStack({ plan: timing, vm })).toMatchObject({ workspace: 'seeded' }));
      console.log(`workspace seed (made + pushed + pulled + unpacked): ${seedMs} ms; uploadStack's tar over SSH: ${tarMs} ms`);
    });
  });
});
