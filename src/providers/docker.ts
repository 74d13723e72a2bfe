import Docker from 'dockerode';
import { createServer } from 'node:net';
import { KamalDevError } from '../errors';
import { LABELS, Provider, ProvisionRequest, VmInstance } from './types';
import { DEFAULT_BASE_IMAGE, ensureVmImage } from './vmImage';

export interface DockerProviderOptions {
  /** A prebuilt VM image; without it the image from vm/Dockerfile is built when missing. */
  image?: string;
  baseImage?: string;
  sshUser: string;
  docker?: Docker;
}

/**
 * Local VMs: each is a container running sshd (published on 127.0.0.1 only) that gets its own Docker
 * engine from bootstrap. Made without --privileged, which this kind of machine refuses.
 */
export class DockerProvider implements Provider {
  readonly type = 'docker';
  private readonly docker: Docker;

  constructor(private readonly options: DockerProviderOptions) {
    this.docker = options.docker ?? new Docker();
  }

  async provision(request: ProvisionRequest): Promise<VmInstance> {
    const existing = await this.inspect(request.name);
    if (existing) {
      if (existing.Config.Labels?.[LABELS.managed] !== 'true') throw notOurs(request.name);
      if (!existing.State.Running) await this.docker.getContainer(existing.Id).start();
      return this.instance(request.name);
    }
    const image = this.options.image ?? (await ensureVmImage(this.options.baseImage ?? DEFAULT_BASE_IMAGE));
    try {
      const container = await this.docker.createContainer(this.createOptions(request, image, await freeLocalPort()));
      await container.start();
    } catch (error) {
      // Another worker created it a moment ago: provisioning is idempotent, so take that one.
      if ((error as { statusCode?: number }).statusCode !== 409) throw error;
    }
    return this.instance(request.name);
  }

  async destroy(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).remove({ force: true, v: true });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
  }

  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const filters = { label: [`${LABELS.managed}=true`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)] };
    const containers = await this.docker.listContainers({ all: true, filters });
    const names = containers.map((c) => c.Names[0].replace(/^\//, ''));
    const instances = await Promise.all(names.map((n) => this.instance(n).catch(() => undefined)));
    return instances.filter((i): i is VmInstance => i !== undefined);
  }

  async stop(name: string): Promise<void> {
    try {
      await this.docker.getContainer(name).stop({ t: 10 });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) throw vmMissing(name);
      if (status !== 304) throw error; // 304: already stopped
    }
  }

  async start(name: string): Promise<VmInstance> {
    if (!(await this.inspect(name))) throw vmMissing(name);
    try {
      await this.docker.getContainer(name).start();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 304) throw error; // 304: already running
    }
    return this.instance(name);
  }

  private createOptions(request: ProvisionRequest, image: string, sshPort: number): Docker.ContainerCreateOptions {
    return {
      name: request.name,
      Image: image,
      Labels: { ...request.labels, [LABELS.managed]: 'true' },
      Env: [
        `KAMAL_DEV_VM_NAME=${request.name}`,
        `KAMAL_DEV_SSH_USER=${this.options.sshUser}`,
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
        PortBindings: { '22/tcp': [{ HostIp: '127.0.0.1', HostPort: String(sshPort) }] },
      },
    };
  }

  private async inspect(name: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(name).inspect();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  private async instance(name: string): Promise<VmInstance> {
    const info = await this.inspect(name);
    if (!info) throw vmMissing(name);
    const binding = info.HostConfig.PortBindings?.['22/tcp']?.[0];
    return {
      id: info.Id,
      name,
      status: info.State.Running ? 'running' : info.State.Restarting ? 'starting' : 'stopped',
      ssh: { host: '127.0.0.1', port: Number(binding?.HostPort), user: this.options.sshUser },
      ip: '127.0.0.1',
      labels: info.Config.Labels ?? {},
    };
  }
}

function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

function notOurs(name: string): KamalDevError {
  return new KamalDevError('provider', `a container named ${name} exists and is not a kamal-dev VM`, {
    description: `Rename or remove that container (docker rm -f ${name}), or change the service name in config/dev.yml.`,
  });
}

function vmMissing(name: string): KamalDevError {
  return new KamalDevError('provider', `VM ${name} does not exist`, {
    description: 'Run `kamal-dev list` to see the VMs of this project, or deploy to create it.',
  });
}
