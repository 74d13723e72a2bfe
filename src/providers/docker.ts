import Docker from 'dockerode';
import { KamalDevError } from '../errors';
import { readState, updateState } from '../state/devState';
import { adoptMissingError, notOursError, ownershipOf } from './ownership';
import { DestroyOutcome, LABELS, Provider, ProvisionedVm, ProvisionRequest, VmInstance } from './types';
import { run } from '../docker/runner';
import { authorizeKeyArgv, freeLocalPort, vmContainerOptions } from './docker-container';
import { DEFAULT_BASE_IMAGE, ensureVmImage } from './vmImage';

export interface DockerProviderOptions {
  /** A prebuilt VM image; without it the image from vm/Dockerfile is built when missing. */
  image?: string;
  baseImage?: string;
  sshUser: string;
  /** The project identity whose VMs this provider sees. */
  identity: string;
  /** .kamal/dev_state.yml: where adoptions of local VMs are recorded. */
  stateFile: string;
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

  async provision(request: ProvisionRequest): Promise<ProvisionedVm> {
    const existing = await this.inspect(request.name);
    if (existing) return this.reuse(existing, request);
    const image = this.options.image ?? (await ensureVmImage(this.options.baseImage ?? DEFAULT_BASE_IMAGE));
    try {
      const container = await this.docker.createContainer(vmContainerOptions(request, { image, sshPort: await freeLocalPort(), sshUser: this.options.sshUser, identity: this.options.identity }));
      await container.start();
    } catch (error) {
      // Another worker created it a moment ago: take it if it is this project's, as a found VM would be.
      if ((error as { statusCode?: number }).statusCode !== 409) throw error;
      const raced = await this.inspect(request.name);
      if (raced) return this.reuse(raced, request);
    }
    return { ...(await this.instance(request.name)), created: true };
  }

  async destroy(name: string, options: { createdBy?: string } = {}): Promise<DestroyOutcome> {
    const info = await this.inspect(name);
    if (!info) return 'gone';
    const labels = info.Config.Labels ?? {};
    if (options.createdBy !== undefined) {
      if (labels[LABELS.createdBy] !== options.createdBy || labels[LABELS.project] !== this.options.identity) return 'kept';
    } else {
      this.check(name, info, await this.adoptions());
    }
    try {
      // By id, not name: the container checked above is the one removed.
      await this.docker.getContainer(info.Id).remove({ force: true, v: true });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
    await updateState(this.options.stateFile, (state) => void delete state.adopted_containers[info.Id]);
    return 'destroyed';
  }

  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const { [LABELS.project]: _project, ...rest } = labels;
    const filters = { label: [`${LABELS.managed}=true`, ...Object.entries(rest).map(([k, v]) => `${k}=${v}`)] };
    const containers = await this.docker.listContainers({ all: true, filters });
    const adopted = await this.adoptions();
    const ours = containers.filter((c) => c.Labels[LABELS.project] === this.options.identity || adopted.has(c.Id));
    const instances = await Promise.all(ours.map((c) => this.instance(c.Names[0].replace(/^\//, '')).catch(() => undefined)));
    return instances.filter((i): i is VmInstance => i !== undefined);
  }

  async stop(name: string): Promise<void> {
    const info = await this.ours(name);
    try {
      await this.docker.getContainer(info.Id).stop({ t: 10 });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) throw vmMissing(name);
      if (status !== 304) throw error; // 304: already stopped
    }
  }

  async start(name: string): Promise<VmInstance> {
    const info = await this.ours(name);
    try {
      await this.docker.getContainer(info.Id).start();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 304) throw error; // 304: already running
    }
    return this.instance(name);
  }

  async adopt(name: string, access: { sshPublicKey: string }): Promise<VmInstance> {
    const info = await this.inspect(name);
    if (!info) throw adoptMissingError(name);
    const ownership = ownershipOf(info.Config.Labels ?? {}, this.options.identity);
    if (ownership === 'not-kamal-dev') throw notOursError(name, ownership);
    if (!info.State.Running) await this.docker.getContainer(info.Id).start();
    const user = info.Config.Env?.find((e) => e.startsWith('KAMAL_DEV_SSH_USER='))?.split('=')[1] ?? 'root';
    await run(authorizeKeyArgv(info.Id, user, access.sshPublicKey));
    // Docker cannot change a container's labels: the adoption is recorded in .kamal/dev_state.yml.
    if (ownership !== 'ours') await updateState(this.options.stateFile, (state) => void (state.adopted_containers[info.Id] = name));
    return this.instance(name);
  }

  private async reuse(existing: Docker.ContainerInspectInfo, request: ProvisionRequest): Promise<ProvisionedVm> {
    this.check(request.name, existing, await this.adoptions());
    if (!existing.State.Running) await this.docker.getContainer(existing.Id).start();
    const madeByThisRun = request.createdBy !== undefined && existing.Config.Labels?.[LABELS.createdBy] === request.createdBy;
    return { ...(await this.instance(request.name)), created: madeByThisRun };
  }

  /** Throws, naming the VM, unless it is this project's (by label or by adoption). */
  private check(name: string, info: Docker.ContainerInspectInfo, adopted: Set<string>): void {
    const labels = info.Config.Labels ?? {};
    const ownership = ownershipOf(labels, this.options.identity);
    if (ownership === 'ours' || (ownership !== 'not-kamal-dev' && adopted.has(info.Id))) return;
    throw notOursError(name, ownership, labels);
  }

  private async ours(name: string): Promise<Docker.ContainerInspectInfo> {
    const info = await this.inspect(name);
    if (!info) throw vmMissing(name);
    this.check(name, info, await this.adoptions());
    return info;
  }

  private async adoptions(): Promise<Set<string>> {
    return new Set(Object.keys(readState(this.options.stateFile).adopted_containers));
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
    const labels = info.Config.Labels ?? {};
    return {
      id: info.Id,
      name,
      status: info.State.Running ? 'running' : info.State.Restarting ? 'starting' : 'stopped',
      ssh: { host: '127.0.0.1', port: Number(binding?.HostPort), user: this.options.sshUser },
      ip: '127.0.0.1',
      // An adopted VM reports this project's identity: that is whose it is now.
      labels: labels[LABELS.managed] === 'true' ? { ...labels, [LABELS.project]: this.options.identity } : labels,
    };
  }
}

function vmMissing(name: string): KamalDevError {
  return new KamalDevError('provider', `VM ${name} does not exist`, {
    description: 'Run `kamal-dev list` to see the VMs of this project, or deploy to create it.',
  });
}
