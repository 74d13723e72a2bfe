import { spawn } from 'node:child_process';
import { openRegistryAccess } from '../../src/remote/registryAccess';
import { createVmActivities } from '../../src/activities/vm';
import { knownHostsFile } from '../../src/ssh/knownHosts';
import { SshPool } from '../../src/ssh/pool';
import { bigLayerRegistry, timedPull } from '../../test/support/bigLayer';
import { destroyDeployment, testPlan, testProject } from '../../test/support/vms';
import { DEPLOY_ENV } from './project';

/** One layer this big (random, so nothing compresses): the same image through every path. */
const LAYER_MB = 300;
const PORT = 5599;

export interface TunnelFigures {
  /** The path kamal-dev takes by default (OpenSSH `ssh -R` where ssh is installed). */
  tunnelMbS: number;
  /** The ssh2 forward (the fallback, KAMAL_DEV_TUNNEL=ssh2). */
  ssh2MbS: number;
  /** A plain `ssh -R` running `docker pull` (what bench/pipeline.sh does). */
  sshRMbS: number;
}

/**
 * `docker pull` of one image with a 300 MB layer on one bootstrapped VM from a registry on this
 * machine's loopback, through each tunnel; the fastest of `repeat` pulls per path counts, and each
 * timing includes opening and closing its tunnel.
 */
export async function measureTunnels(run: string, repeat: number, log: (line: string) => void): Promise<TunnelFigures> {
  const service = `${run}-tunnel`;
  const project = await testProject(service);
  const plan = testPlan({ projectDir: project.dir, keyPath: project.keyPath, service, registry: { server: `localhost:${PORT}`, namespace: 'bench', local: true } });
  const activities = createVmActivities({ resolveSecret: async () => '' });
  const pool = new SshPool({ privateKeyPath: project.keyPath, knownHostsFile: knownHostsFile(plan) });
  let registry: Awaited<ReturnType<typeof bigLayerRegistry>> | undefined;
  try {
    log(`tunnel: a VM, and an image with one ${LAYER_MB} MB layer`);
    const vm = await activities.provisionVm({ plan, vm: { deployment: service, name: `${service}-1`, index: 1 }, createdBy: service });
    await activities.waitForSsh({ plan, vm });
    await activities.bootstrapVm({ plan, vm });
    registry = await bigLayerRegistry(PORT, DEPLOY_ENV.KAMAL_DEV_LOCAL_REGISTRY_IMAGE, LAYER_MB, service);
    const session = await pool.session(vm.ssh);
    const image = registry.image;
    const throughKamalDev = async () => {
      const t0 = performance.now();
      const access = await openRegistryAccess(session, plan);
      try {
        await timedPull(session, image);
      } finally {
        await access.close();
      }
      return (performance.now() - t0) / 1000;
    };
    const throughSsh2 = async () => {
      process.env.KAMAL_DEV_TUNNEL = 'ssh2';
      try {
        return await throughKamalDev();
      } finally {
        delete process.env.KAMAL_DEV_TUNNEL;
      }
    };
    const throughSshR = async () => {
      await session.exec(['docker', 'rmi', '-f', image], { root: true });
      const argv = ['-i', project.keyPath, '-p', String(vm.ssh.port), '-o', `UserKnownHostsFile=${knownHostsFile(plan)}`, '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-R', `127.0.0.1:${PORT}:127.0.0.1:${PORT}`, `${vm.ssh.user}@${vm.ssh.host}`, `docker pull -q ${image}`];
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) =>
        spawn('ssh', argv, { stdio: 'ignore' }).once('error', reject).once('close', (code) => (code === 0 ? resolve() : reject(new Error(`ssh -R docker pull exited ${code}`)))),
      );
      return (performance.now() - t0) / 1000;
    };
    // Round by round, each path once per round: a shared machine's load then weighs on all of them alike.
    const paths = { tunnelMbS: ['kamal-dev tunnel', throughKamalDev], sshRMbS: ['ssh -R', throughSshR], ssh2MbS: ['ssh2 forward', throughSsh2] } as const;
    const seconds = new Map<string, number[]>();
    for (let i = 0; i < repeat; i++) {
      for (const [name, pull] of Object.values(paths)) seconds.set(name, [...(seconds.get(name) ?? []), await pull()]);
    }
    for (const [name, runs] of seconds) log(`  ${name}: ${runs.map((s) => s.toFixed(1)).join(' ')} s`);
    const mbS = (name: string) => registry!.bytes / 1e6 / Math.min(...seconds.get(name)!);
    return { tunnelMbS: mbS(paths.tunnelMbS[0]), sshRMbS: mbS(paths.sshRMbS[0]), ssh2MbS: mbS(paths.ssh2MbS[0]) };
  } finally {
    await pool.closeAll();
    await activities.close();
    await destroyDeployment(service);
    await registry?.remove();
  }
}

