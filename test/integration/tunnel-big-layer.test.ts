import { createVmActivities } from '../../src/activities/vm';
import type { VmHandle } from '../../src/domain/vm';
import { openRegistryAccess } from '../../src/remote/registryAccess';
import { knownHostsFile } from '../../src/ssh/knownHosts';
import { opensshInstalled } from '../../src/ssh/opensshForward';
import { SshPool } from '../../src/ssh/pool';
import type { SshSession } from '../../src/ssh/session';
import { bigLayerRegistry, timedPull } from '../support/bigLayer';
import { waitFor } from '../support/faults';
import { describeWithLab, labInfo } from '../support/lab';
import { destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(900_000);

/** Kamal's own tunnel stalls on layers above about 27 MiB (basecamp/kamal#1886): ten times that, to two VMs at once. */
const LAYER_MB = 300;

describeWithLab(['vmImage', 'localRegistry'], 'the local-registry tunnel carries a 300 MB layer to two VMs at once', () => {
  const service = `vms-tunnel-${process.pid}`;
  const port = 5600 + (process.pid % 300);
  const activities = createVmActivities({ resolveSecret: async () => '' });
  let registry: Awaited<ReturnType<typeof bigLayerRegistry>>;
  let project: { dir: string; keyPath: string };
  let pool: SshPool;
  let sessions: SshSession[];
  const plan = () =>
    testPlan({ projectDir: project.dir, keyPath: project.keyPath, service, registry: { server: `localhost:${port}`, namespace: 'kamal-dev-test', local: true } });

  beforeAll(async () => {
    project = await testProject('tunnel');
    const made = Promise.all(
      [1, 2].map(async (index): Promise<VmHandle> => {
        const vm = await activities.provisionVm({ plan: plan(), vm: { deployment: service, name: `${service}-${index}`, index }, createdBy: 'tunnel-test' });
        await activities.waitForSsh({ plan: plan(), vm });
        await activities.bootstrapVm({ plan: plan(), vm });
        return vm;
      }),
    );
    registry = await bigLayerRegistry(port, labInfo<{ image: string }>('localRegistry').image, LAYER_MB, service);
    pool = new SshPool({ privateKeyPath: project.keyPath, knownHostsFile: knownHostsFile(plan()) });
    sessions = await Promise.all((await made).map((vm) => pool.session(vm.ssh)));
  });

  afterAll(async () => {
    delete process.env.KAMAL_DEV_TUNNEL;
    await pool?.closeAll();
    await activities.close();
    await destroyDeployment(service);
    await registry?.remove();
  });

  /**
   * Closed means closed: soon nothing on the VM listens on the registry's port. Soon, not at once:
   * sshd lets go of it a moment after the `ssh -R` that held it has exited.
   */
  const expectPortReleased = async (session: SshSession) => {
    const released = () => session.openTcp('127.0.0.1', port).then((channel) => (channel.destroy(), false), () => true);
    expect(await waitFor(released, 5_000, 100)).toBe(true);
  };

  const pullOnBoth = async () => {
    const tunnels = await Promise.all(sessions.map((session) => openRegistryAccess(session, plan())));
    try {
      await Promise.all(sessions.map((session) => timedPull(session, registry.image)));
    } finally {
      await Promise.all(tunnels.map((tunnel) => tunnel.close()));
    }
    for (const session of sessions) {
      const payload = await session.run(['docker', 'run', '--rm', registry.image, 'stat', '-c', '%s', '/payload'], { root: true });
      expect(Number(payload.stdout.trim())).toBe(registry.bytes);
      await expectPortReleased(session);
    }
  };

  it('through OpenSSH `ssh -R` (the default where ssh is installed)', async () => {
    expect(opensshInstalled()).toBe(true);
    await pullOnBoth();
  });

  it('a port already forwarded on the VM: `ssh -R` fails with OpenSSH\'s reason and leaves nothing running there', async () => {
    const [session] = sessions;
    const closeTaken = await session.forwardRemotePortOverSsh2(port);
    try {
      await expect(session.forwardRemotePort(port)).rejects.toMatchObject({
        message: expect.stringContaining(`ssh -R ${port} to root@`),
        description: expect.stringContaining('remote port forwarding failed'),
      });
    } finally {
      await closeTaken();
    }
    expect((await session.exec(['sh', '-c', 'ps -eo args | grep -c "^cat$"'])).stdout.trim()).toBe('0');
  });

  it('steps at once on one VM share its forward: it closes when the last of them is done', async () => {
    const [session] = sessions;
    const [closeSeed, closePull] = await Promise.all([session.forwardRemotePort(port), session.forwardRemotePort(port)]);
    await closeSeed();
    (await session.openTcp('127.0.0.1', port)).destroy();
    await closePull();
    await expectPortReleased(session);
  });

  it('through the ssh2 forward (the fallback, KAMAL_DEV_TUNNEL=ssh2)', async () => {
    process.env.KAMAL_DEV_TUNNEL = 'ssh2';
    await pullOnBoth();
  });
});
