import { appendFileSync, existsSync } from 'node:fs';
import Docker from 'dockerode';
import { createVmActivities } from '../../src/activities/vm';
import { knownHostsFile } from '../../src/ssh/knownHosts';
import { LABELS } from '../../src/providers/types';
import { SshPool } from '../../src/ssh/pool';
import { VM_IMAGE_LABEL, vmImageTag } from '../../src/providers/vmImage';
import { describeWithLab } from '../support/lab';
import { HOSTILE } from '../support/hostile';
import { destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(300_000);

describeWithLab(['vmImage'], 'docker provider: local VMs', () => {
  const service = `vms-prov-${process.pid}`;
  const activities = createVmActivities({ resolveSecret: async (name) => name });
  let plan: ReturnType<typeof testPlan>;
  const vm = (index: number) => ({ deployment: service, name: `${service}-${index}`, index });

  beforeAll(async () => {
    const project = await testProject('prov');
    plan = testPlan({ projectDir: project.dir, keyPath: project.keyPath, service });
  });

  afterAll(async () => {
    await activities.close();
    await destroyDeployment(service);
  });

  it('provisions 2 VMs; provisioning again with the same names creates none', async () => {
    const first = await Promise.all([1, 2].map((i) => activities.provisionVm({ plan, vm: vm(i), createdBy: 'first-run' })));
    const again = await Promise.all([1, 2].map((i) => activities.provisionVm({ plan, vm: vm(i), createdBy: 'first-run' })));
    expect(again.map((h) => h.id)).toEqual(first.map((h) => h.id));
    // A retry of the run that made them still knows it made them.
    expect([...first, ...again].map((h) => h.created)).toEqual([true, true, true, true]);
    const containers = await new Docker().listContainers({ all: true, filters: { label: [`${LABELS.deployment}=${service}`] } });
    expect(containers).toHaveLength(2);
    for (const c of containers) {
      expect(c.Ports.filter((p) => p.PublicPort)).toEqual([expect.objectContaining({ IP: '127.0.0.1', PrivatePort: 22 })]);
      expect(c.Labels).toMatchObject({ [LABELS.managed]: 'true', [LABELS.service]: service, [LABELS.project]: plan.identity, [LABELS.createdBy]: 'first-run' });
    }
    expect((await activities.listVms({ plan })).map((h) => h.name).sort()).toEqual([vm(1).name, vm(2).name]);
    await Promise.all(first.map((handle) => activities.waitForSsh({ plan, vm: handle })));
  });

  it('a redeploy finds the VM; its compensation keeps it, only removal destroys it', async () => {
    const found = await activities.provisionVm({ plan, vm: vm(1), createdBy: 'redeploy-run' });
    expect(found.created).toBe(false);
    expect(await activities.destroyVm({ plan, vm: vm(1), createdBy: 'redeploy-run' })).toEqual({ outcome: 'kept' });
    expect((await new Docker().getContainer(vm(1).name).inspect()).Id).toBe(found.id);
    expect((await activities.listVms({ plan })).map((h) => h.name).sort()).toEqual([vm(1).name, vm(2).name]);
  });

  it('passes hostile arguments through SSH untouched, and runs none of them', async () => {
    const [handle] = await activities.listVms({ plan });
    const pool = new SshPool({ privateKeyPath: plan.ssh.keyPath, knownHostsFile: knownHostsFile(plan) });
    try {
      const session = await pool.session(handle.ssh);
      const result = await session.run(['printf', '%s\\0', ...HOSTILE]);
      expect(result.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE);
      expect((await session.exec(['test', '-e', '/tmp/pwned'])).exitCode).toBe(1);
    } finally {
      await pool.closeAll();
    }
  });

  it('stops and starts a VM on the same SSH endpoint', async () => {
    const before = (await activities.listVms({ plan })).find((h) => h.name === vm(2).name)!;
    await activities.stopVm({ plan, vm: vm(2) });
    const after = await activities.startVm({ plan, vm: vm(2) });
    expect(after.ssh).toEqual(before.ssh);
    await activities.waitForSsh({ plan, vm: after });
  });

  it('waiting for the sshd of a VM that has stopped fails at once, saying so, instead of retrying', async () => {
    const fresh = createVmActivities({ resolveSecret: async (name) => name, sshTimeoutMs: 2_000 });
    const handle = (await fresh.listVms({ plan })).find((h) => h.name === vm(2).name)!;
    await new Docker().getContainer(handle.name).stop({ t: 1 });
    try {
      const failure = await fresh.waitForSsh({ plan, vm: handle }).catch((e) => e);
      expect(failure).toMatchObject({ type: 'ProviderError', nonRetryable: true, message: `VM ${handle.name} stopped while kamal-dev was waiting for its sshd` });
    } finally {
      await fresh.close();
      await activities.startVm({ plan, vm: vm(2) });
    }
  });

  it('refuses a host whose key differs from the recorded one', async () => {
    const [handle] = await activities.listVms({ plan });
    const file = knownHostsFile(plan);
    expect(existsSync(file)).toBe(true);
    const otherFile = `${file}.tampered`;
    // Same endpoint, someone else's key.
    appendFileSync(otherFile, `[${handle.ssh.host}]:${handle.ssh.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnmTiQb3lbKwtp3X1rDMIDsDr3GbsYRmHhzRxPHcKNd\n`);
    const pool = new SshPool({ privateKeyPath: plan.ssh.keyPath, knownHostsFile: otherFile, connectTimeoutMs: 5_000 });
    try {
      await expect(pool.session(handle.ssh)).rejects.toMatchObject({
        kind: 'ssh',
        message: expect.stringMatching(/host key of \[127\.0\.0\.1\]:\d+ does not match/),
      });
    } finally {
      await pool.closeAll();
    }
  });

  it('builds the VM image from vm/Dockerfile when it is missing', async () => {
    // debian:bookworm is the lab's base under another name: same content, a VM image tag not built yet.
    const otherBase = { ...plan, provider: { type: 'docker' as const, baseImage: 'debian:bookworm' } };
    const tag = vmImageTag('debian:bookworm');
    await new Docker().getImage(tag).remove({ force: true }).catch(() => undefined);
    try {
      await activities.provisionVm({ plan: otherBase, vm: vm(3), createdBy: 'first-run' });
      const image = await new Docker().getImage(tag).inspect();
      expect(image.Config.Labels).toMatchObject({ [VM_IMAGE_LABEL]: 'true' });
      expect((await new Docker().getContainer(vm(3).name).inspect()).Config.Image).toBe(tag);
    } finally {
      await activities.destroyVm({ plan: otherBase, vm: vm(3) });
      await new Docker().getImage(tag).remove({ force: true }).catch(() => undefined);
    }
  });

  it('destroys a VM with its volumes; destroying it again succeeds', async () => {
    const docker = new Docker();
    const info = await docker.getContainer(vm(1).name).inspect();
    const volume = info.Mounts.find((m) => m.Destination === '/var/lib/docker')!.Name!;
    await activities.destroyVm({ plan, vm: vm(1) });
    await activities.destroyVm({ plan, vm: vm(1) });
    await expect(docker.getVolume(volume).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await activities.listVms({ plan })).map((h) => h.name)).toEqual([vm(2).name]);
  });
});
