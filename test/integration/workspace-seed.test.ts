import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmHandle } from '../../src/activities/types';
import { createBuildActivities } from '../../src/activities/build';
import { createVmActivities } from '../../src/activities/vm';
import { seedRepository } from '../../src/images/seed';
import { knownHostsFile } from '../../src/ssh/knownHosts';
import type { DeployPlan, WorkspaceSeed } from '../../src/spec/plan';
import { SshPool } from '../../src/ssh/pool';
import type { SshSession } from '../../src/ssh/session';
import { describeWithLab, labInfo } from '../support/lab';
import { destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(600_000);

/**
 * The workspace seed through the real registry and a real VM, as a deploy on another worker runs it:
 * pushWorkspaceSeed on the source, then uploadStack without the project's files, seedWorkspace from
 * the registry and composeUp. The scenarios share the first deploy, in order.
 */
describeWithLab(['vmImage', 'registry', 'postgres'], 'workspace seed in the registry', () => {
  const service = `vms-seed-${process.pid}`;
  const registry = () => labInfo<{ address: string; username: string; password: string }>('registry');
  const secrets: Record<string, string> = {};
  const resolve = (name: string) => secrets[name];
  const vmActivities = createVmActivities({ resolveSecret: async (name) => resolve(name), verifyTimeoutMs: 60_000, logTail: 10 });
  const source = createBuildActivities({ secretsFor: () => resolve });
  const stackDir = `/opt/kamal-dev/${service}`;
  const remoteWorkspace = `${stackDir}/workspaces/proj`;
  let project: { dir: string; keyPath: string };
  let local: string;
  let vm: VmHandle;
  let pool: SshPool;
  let session: SshSession;
  let releases = 0;

  const plan = (sync = false): DeployPlan =>
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
              image: labInfo<{ pushed: string }>('postgres').pushed,
              entrypoint: ['sh', '-c', 'exec sleep infinity'],
              env_file: [`${stackDir}/env/1-app.env`],
              volumes: [{ type: 'bind', source: remoteWorkspace, target: '/workspace' }],
              healthcheck: { test: ['CMD', 'test', '-f', '/workspace/hello.txt'], interval: '1s', timeout: '2s', retries: 5 },
            },
          },
        },
        files: [{ source: join(local, 'app.env'), target: 'env/1-app.env' }],
        workspace: { source: local, target: 'workspaces/proj', exclude: ['.kamal', 'node_modules'], ...(sync ? { sync: true } : {}) },
      },
    });

  /** The VM steps of a deploy whose workspace travels as a seed, in the workflow's order. */
  async function deploy(p: DeployPlan, seed: WorkspaceSeed): Promise<{ workspace?: string }> {
    await vmActivities.uploadStack({ plan: p, vm, fromSeed: true });
    const seeded = await vmActivities.seedWorkspace({ plan: p, vm, seed });
    await vmActivities.composeUp({ plan: p, vm, skipPush: false, release: `release-${++releases}` });
    await vmActivities.verifyStack({ plan: p, vm });
    return seeded;
  }
  const onVm = async (command: string[]) => (await session.run(command, { root: true })).stdout.trim();

  beforeAll(async () => {
    Object.assign(secrets, { REG_USER: registry().username, REG_PASS: registry().password });
    project = await testProject('seed');
    local = mkdtempSync(join(tmpdir(), 'kamal-dev-vms-seed-src-'));
    writeFileSync(join(local, 'hello.txt'), 'from the laptop\n');
    mkdirSync(join(local, 'src'));
    writeFileSync(join(local, 'src', 'main.txt'), 'source\n');
    writeFileSync(join(local, '.gitignore'), 'build/\n');
    mkdirSync(join(local, 'build'));
    writeFileSync(join(local, 'build', 'out.bin'), 'build output\n');
    mkdirSync(join(local, '.kamal'));
    writeFileSync(join(local, '.kamal', 'secrets'), 'NEVER=copied\n');
    writeFileSync(join(local, 'app.env'), 'GREETING=hello from the env file\n');
    vm = await vmActivities.provisionVm({ plan: plan(), vm: { deployment: service, name: `${service}-1`, index: 1 } });
    await vmActivities.waitForSsh({ plan: plan(), vm });
    await vmActivities.bootstrapVm({ plan: plan(), vm });
    pool = new SshPool({ privateKeyPath: project.keyPath, knownHostsFile: knownHostsFile(plan()) });
    session = await pool.session(vm.ssh);
  });

  afterAll(async () => {
    await pool?.closeAll();
    await vmActivities.close();
    await destroyDeployment(service);
    for (const dir of [project?.dir, local]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let first: WorkspaceSeed;

  it('is content-addressed: an unchanged tree gives the same digest and is not pushed again', async () => {
    first = await source.pushWorkspaceSeed({ plan: plan() });
    expect(first).toMatchObject({ pushed: true, files: 4, image: `${seedRepository(plan())}@${first.digest}` });
    expect(await source.pushWorkspaceSeed({ plan: plan() })).toEqual({ ...first, pushed: false });
  });

  it('the first deploy seeds the workspace copy and the stack files from the registry; .kamal and ignored files stay behind', async () => {
    expect(await deploy(plan(), first)).toEqual({ workspace: 'seeded' });
    const listing = (await onVm(['find', remoteWorkspace, '-printf', '%P\\n'])).split('\n').sort();
    expect(listing).toEqual(['.gitignore', 'app.env', 'hello.txt', 'src', 'src/main.txt']);
    expect(await onVm(['stat', '-c', '%U %a', `${remoteWorkspace}/hello.txt`, `${stackDir}/env/1-app.env`])).toBe('dev 644\ndev 600');
    expect(await onVm(['docker', 'exec', `${service}-app-1`, 'printenv', 'GREETING'])).toBe('hello from the env file');
    // Neither the seed's container nor its image stays on the VM.
    expect(await onVm(['docker', 'ps', '-aq', '--filter', 'label=kamal-dev.seed'])).toBe('');
    expect(await onVm(['docker', 'images', '-q', seedRepository(plan())])).toBe('');
  });

  it('a redeploy with a changed tree pushes a new seed and leaves the workspace copy on the VM alone', async () => {
    await onVm(['sh', '-c', `echo 'edited on the VM' > ${remoteWorkspace}/hello.txt; echo mine > ${remoteWorkspace}/vm-only.txt`]);
    writeFileSync(join(local, 'hello.txt'), 'changed on the laptop\n');
    const second = await source.pushWorkspaceSeed({ plan: plan() });
    expect(second.pushed).toBe(true);
    expect(second.digest).not.toBe(first.digest);
    expect(await deploy(plan(), second)).toEqual({ workspace: 'kept' });
    expect(await onVm(['cat', `${remoteWorkspace}/hello.txt`, `${remoteWorkspace}/vm-only.txt`])).toBe('edited on the VM\nmine');
  });

  it('--sync-workspace copies the seed over the copy: each file overwritten, files only on the VM kept', async () => {
    writeFileSync(join(local, 'hello.txt'), 'synced\n');
    const third = await source.pushWorkspaceSeed({ plan: plan(true) });
    expect(await deploy(plan(true), third)).toEqual({ workspace: 'staged for sync' });
    expect(await onVm(['cat', `${remoteWorkspace}/hello.txt`, `${remoteWorkspace}/vm-only.txt`])).toBe('synced\nmine');
    expect(await onVm(['stat', '-c', '%U', `${remoteWorkspace}/hello.txt`])).toBe('dev');
  });

  it('costs, for this workspace, about what the tar over SSH costs (printed for comparison)', async () => {
    const timed = async (work: () => Promise<unknown>) => {
      const started = Date.now();
      await work();
      return Date.now() - started;
    };
    const fresh = `${service}-timing`;
    const timing = (p: DeployPlan): DeployPlan => ({ ...p, service: fresh, stack: { ...p.stack, projectName: fresh, workspace: { ...p.stack.workspace!, sync: false } } });
    writeFileSync(join(local, 'timing.txt'), `${Date.now()}\n`);
    const seedMs = await timed(async () => {
      const seed = await source.pushWorkspaceSeed({ plan: timing(plan()) });
      await vmActivities.uploadStack({ plan: timing(plan()), vm, fromSeed: true });
      await vmActivities.seedWorkspace({ plan: timing(plan()), vm, seed });
    });
    await onVm(['rm', '-rf', `/opt/kamal-dev/${fresh}`]);
    const tarMs = await timed(() => vmActivities.uploadStack({ plan: timing(plan()), vm }));
    await onVm(['rm', '-rf', `/opt/kamal-dev/${fresh}`]);
    console.log(`workspace seed (build + push + pull + unpack): ${seedMs} ms; uploadStack tar over SSH: ${tarMs} ms`);
    expect(seedMs).toBeGreaterThan(0);
  });
});
