import type Docker from 'dockerode';
import { createServer } from 'node:net';
import { LABELS, ProvisionRequest } from './types';

/** How a local VM container is made: labelled with its owner, sshd on loopback, its own engine's data in a volume. */
export function vmContainerOptions(request: ProvisionRequest, vm: { image: string; sshPort: number; sshUser: string; identity: string }): Docker.ContainerCreateOptions {
  return {
    name: request.name,
    Image: vm.image,
    Labels: {
      ...request.labels,
      [LABELS.managed]: 'true',
      [LABELS.project]: vm.identity,
      ...(request.createdBy ? { [LABELS.createdBy]: request.createdBy } : {}),
    },
    Env: [
      `KAMAL_DEV_VM_NAME=${request.name}`,
      `KAMAL_DEV_SSH_USER=${vm.sshUser}`,
      `KAMAL_DEV_SSH_PUBLIC_KEY=${request.sshPublicKey}`,
    ],
    ExposedPorts: { '22/tcp': {} },
    // The inner engine keeps its images and containers here; `remove({v: true})` deletes it with the VM.
    Volumes: { '/var/lib/docker': {} },
    HostConfig: {
      CapAdd: ['SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE'],
      SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'],
      DeviceCgroupRules: ['a *:* rwm'],
      Binds: ['/sys/fs/cgroup:/sys/fs/cgroup:rw'],
      Tmpfs: { '/run': '', '/tmp': '' },
      // A fixed port (not an ephemeral one) keeps the SSH endpoint and its known host key across stop/start.
      PortBindings: { '22/tcp': [{ HostIp: '127.0.0.1', HostPort: String(vm.sshPort) }] },
    },
  };
}

/**
 * `docker exec` argv that authorises one more SSH key for the VM's user: in authorized_keys2, which
 * sshd reads too and the VM's entrypoint (which rewrites authorized_keys on every start) never touches.
 */
export function authorizeKeyArgv(container: string, user: string, publicKey: string): string[] {
  // A VM started a moment ago may still be making its user and ~/.ssh (vm/entrypoint.sh): wait for them.
  const script = [
    'for _ in $(seq 30); do home=$(getent passwd "$1" | cut -d: -f6); [ -n "$home" ] && [ -d "$home/.ssh" ] && break; sleep 1; done',
    'file="$home/.ssh/authorized_keys2"',
    'grep -qxF "$2" "$file" 2>/dev/null || printf "%s\\n" "$2" >>"$file"',
    'chown "$1" "$file" && chmod 600 "$file"',
  ].join('; ');
  return ['docker', 'exec', '--user', 'root', container, 'sh', '-c', script, 'sh', user, publicKey.trim()];
}

export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

