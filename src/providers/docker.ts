import Docker from 'dockerode';
import { KamalDevError } from '../errors';
import { adoptMissingError, notOursError, ownershipOf } from './ownership';
import { DestroyOutcome, LABELS, Provider, ProvisionedVm, ProvisionRequest, VmInstance } from './types';
import { run } from '../docker/runner';
import { authorizeKeyArgv, freeLocalPort, vmContainerOptions } from './docker-container';
import { adoptArgv, adoptedBy, effectiveLabels } from './docker-owner';
import { DEFAULT_BASE_IMAGE, ensureVmImage } from './vmImage';

export interface DockerProviderOptions {
  /** A prebuilt VM image; without it the image from vm/Dockerfile is built when missing. */
  image?: string;
  baseImage?: string;
  sshUser: string;
  /** The project identity whose VMs this provider sees. */
  identity: string;
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
    // Adopted by another project since this run made it: that project's now, so kept.
    const labels = await effectiveLabels(this.docker, info);
    if (options.createdBy !== undefined) {
      if (labels[LABELS.createdBy] !== options.createdBy || labels[LABELS.project] !== this.options.identity) return 'kept';
    } else {
      this.check(name, labels);
    }
    try {
      // By id, not name: the container checked above is the one removed.
      await this.docker.getContainer(info.Id).remove({ force: true, v: true });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw error;
    }
    return 'destroyed';
  }

  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const { [LABELS.project]: _project, ...rest } = labels;
    const filters = { label: [`${LABELS.managed}=true`, ...Object.entries(rest).map(([k, v]) => `${k}=${v}`)] };
    const containers = await this.docker.listContainers({ all: true, filters });
    const owners = await Promise.all(containers.map(async (c) => (await adoptedBy(this.docker, c.Id)) ?? c.Labels[LABELS.project]));
    const ours = containers.filter((_, i) => owners[i] === this.options.identity);
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
    const ownership = ownershipOf(await effectiveLabels(this.docker, info), this.options.identity);
    if (ownership === 'not-kamal-dev') throw notOursError(name, ownership);
    if (!info.State.Running) await this.docker.getContainer(info.Id).start();
    const user = info.Config.Env?.find((e) => e.startsWith('KAMAL_DEV_SSH_USER='))?.split('=')[1] ?? 'root';
    await run(authorizeKeyArgv(info.Id, user, access.sshPublicKey));
    // Recorded in the VM, not in this checkout: from now on the maker's checkout sees it as foreign.
    if (ownership !== 'ours') await run(adoptArgv(info.Id, this.options.identity));
    return this.instance(name);
  }

  private async reuse(existing: Docker.ContainerInspectInfo, request: ProvisionRequest): Promise<ProvisionedVm> {
    this.check(request.name, await effectiveLabels(this.docker, existing));
    if (!existing.State.Running) await this.docker.getContainer(existing.Id).start();
    const madeByThisRun = request.createdBy !== undefined && existing.Config.Labels?.[LABELS.createdBy] === request.createdBy;
    return { ...(await this.instance(request.name)), created: madeByThisRun };
  }

  /** Throws, naming the VM, unless it is this project's (by its label, or by its adoption: effectiveLabels). */
  private check(name: string, labels: Record<string, string>): void {
    const ownership = ownershipOf(labels, this.options.identity);
    if (ownership !== 'ours') throw notOursError(name, ownership, labels);
  }

  private async ours(name: string): Promise<Docker.ContainerInspectInfo> {
    const info = await this.inspect(name);
    if (!info) throw vmMissing(name);
    this.check(name, await effectiveLabels(this.docker, info));
    return info;
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
    const labels = await effectiveLabels(this.docker, info);
    return {
      id: info.Id,
      name,
      status: info.State.Running ? 'running' : info.State.Restarting ? 'starting' : 'stopped',
      ssh: { host: '127.0.0.1', port: Number(binding?.HostPort), user: this.options.sshUser },
      ip: '127.0.0.1',
      labels,
    };
  }
}

function vmMissing(name: string): KamalDevError {
  return new KamalDevError('provider', `VM ${name} does not exist`, {
    description: 'Run `kamal-dev list` to see the VMs of this project, or deploy to create it.',
  });
}
