import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fromUpcloudKey } from '../../src/providers/upcloud-labels';
import { sh } from '../lab/exec';
import { LAB_LABEL } from '../lab/lab';
import { labInfo } from './lab';
import type { FakeMachines, FakeServer } from './upcloud-fake';

const run = promisify(execFile);

export interface CloudInitLag {
  /** How long after create the server refuses the key (cloud-init has not installed it yet). */
  keyAfterMs: number;
  /** The private key to prove the refusal with, the pair of the key the deploy sends. */
  privateKeyPath: string;
}

/**
 * Lab VMs behind the UpCloud fake's servers: each new server gets a container of the lab's VM image
 * with sshd published on its own loopback address (127.x.y.2, one per test process), its labels
 * (so leftovers are found by deployment), and the key from the create request only after
 * `keyAfterMs`, as cloud-init on a new cloud server installs it late.
 */
export class LabMachines implements FakeMachines {
  readonly started: Promise<void>[] = [];
  /** Set once an SSH login with the deploy's key was seen refused before the key was installed. */
  refusalSeen = false;
  private next = 0;

  constructor(private readonly lag: CloudInitLag) {}

  create(server: FakeServer): string {
    const pid = process.pid;
    const ip = `127.${100 + (pid % 100)}.${(Math.floor(pid / 100) + this.next++) % 250}.2`;
    this.started.push(this.start(server, ip));
    return ip;
  }

  async release(server: FakeServer): Promise<void> {
    await sh(['docker', 'rm', '--force', '--volumes', containerName(server)]);
  }

  private async start(server: FakeServer, ip: string): Promise<void> {
    const name = containerName(server);
    const labels = server.labels.flatMap((l) => ['--label', `${fromUpcloudKey(l.key)}=${l.value}`]);
    await sh([
      'docker', 'run', '--detach', '--name', name, '--label', `${LAB_LABEL}=upcloud-machine`, ...labels,
      '--env', `KAMAL_DEV_VM_NAME=${name}`, '--env', 'KAMAL_DEV_SSH_PUBLIC_KEY=# cloud-init has not run yet',
      '--cap-add', 'SYS_ADMIN', '--cap-add', 'NET_ADMIN', '--cap-add', 'SYS_PTRACE',
      '--security-opt', 'seccomp=unconfined', '--security-opt', 'apparmor=unconfined', '--device-cgroup-rule', 'a *:* rwm',
      '-v', '/sys/fs/cgroup:/sys/fs/cgroup:rw', '--tmpfs', '/run', '--tmpfs', '/tmp', '-v', '/var/lib/docker',
      '--publish', `${ip}:22:22`, labInfo<{ image: string }>('vmImage').image,
    ]);
    const keyAt = Date.now() + this.lag.keyAfterMs;
    while (Date.now() < keyAt - 5_000 && !this.refusalSeen) {
      this.refusalSeen = await refused(ip, this.lag.privateKeyPath);
      if (!this.refusalSeen) await new Promise((r) => setTimeout(r, 1_000));
    }
    await new Promise((r) => setTimeout(r, Math.max(0, keyAt - Date.now())));
    const key = ((server.created.login_user as { ssh_keys: { ssh_key: string[] } }).ssh_keys.ssh_key)[0];
    // authorized_keys2: the VM's entrypoint rewrites authorized_keys as it starts, which may be after this.
    await sh(['docker', 'exec', name, 'sh', '-c', 'mkdir -p /root/.ssh && printf "%s\\n" "$1" > /root/.ssh/authorized_keys2', 'sh', key]);
  }
}

function containerName(server: FakeServer): string {
  return `${server.title}-upcloud-machine`;
}

async function refused(ip: string, privateKeyPath: string): Promise<boolean> {
  const argv = ['-i', privateKeyPath, '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=3', `root@${ip}`, 'true'];
  return run('ssh', argv).then(
    () => false,
    (error: { stderr?: string }) => /Permission denied/.test(error.stderr ?? ''),
  );
}
