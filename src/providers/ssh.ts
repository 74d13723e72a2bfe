import { KamalDevError } from '../errors';
import { readState, updateState } from '../state/devState';
import { LABELS, Provider, ProvisionRequest, VmInstance } from './types';

export interface ExistingHost {
  host: string;
  port?: number;
  user?: string;
}

/** What the ssh provider does on a claimed host through SSH (the activities own the SSH session). */
export interface HostStack {
  /** Removes the stack and its files from the host; the host itself stays. */
  remove(vm: VmInstance): Promise<void>;
  stop(vm: VmInstance): Promise<void>;
  start(vm: VmInstance): Promise<void>;
}

export interface SshProviderOptions {
  hosts: ExistingHost[];
  stateFile: string;
  defaultUser: string;
  defaultPort: number;
  hostStack: HostStack;
}

/** Existing machines listed in config: a VM "provisioned" here is a claim on one of them. */
export class SshProvider implements Provider {
  readonly type = 'ssh';

  constructor(private readonly options: SshProviderOptions) {}

  async provision(request: ProvisionRequest): Promise<VmInstance> {
    const key = await updateState(this.options.stateFile, (state) => {
      const mine = Object.entries(state.ssh_claims).find(([, name]) => name === request.name)?.[0];
      if (mine) return mine;
      const free = this.options.hosts.map((h) => this.key(h)).find((k) => !(k in state.ssh_claims));
      if (free) state.ssh_claims[free] = request.name;
      return free;
    });
    if (!key) {
      throw new KamalDevError('provider', `every host in the ssh provider's list is already in use (${this.options.hosts.length} hosts)`, {
        key: 'provider/hosts',
        description: 'Add hosts to provider.hosts in config/dev.yml, or remove a deployment with `kamal-dev remove`.',
      });
    }
    return this.instance(key, request.name, request.labels);
  }

  async destroy(name: string): Promise<void> {
    const vm = (await this.list({})).find((v) => v.name === name);
    if (!vm) return;
    await this.options.hostStack.remove(vm);
    await updateState(this.options.stateFile, (state) => {
      for (const [k, n] of Object.entries(state.ssh_claims)) if (n === name) delete state.ssh_claims[k];
    });
  }

  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const state = readState(this.options.stateFile);
    return Object.entries(state.ssh_claims)
      .filter(([key]) => this.options.hosts.some((h) => this.key(h) === key))
      .map(([key, name]) => this.instance(key, name, this.labelsOf(state.deployments[name]?.service, state.deployments[name]?.index)))
      .filter((vm) => Object.entries(labels).every(([k, v]) => vm.labels[k] === v));
  }

  async stop(name: string): Promise<void> {
    await this.options.hostStack.stop(await this.claimed(name));
  }

  async start(name: string): Promise<VmInstance> {
    const vm = await this.claimed(name);
    await this.options.hostStack.start(vm);
    return vm;
  }

  private async claimed(name: string): Promise<VmInstance> {
    const vm = (await this.list({})).find((v) => v.name === name);
    if (!vm) throw new KamalDevError('provider', `no host is claimed by ${name}`, { description: 'Run `kamal-dev list` to see the deployments.' });
    return vm;
  }

  private labelsOf(service?: string, index?: number): Record<string, string> {
    const labels: Record<string, string> = { [LABELS.managed]: 'true' };
    if (service) labels[LABELS.service] = labels[LABELS.deployment] = service;
    if (index !== undefined) labels[LABELS.index] = String(index);
    return labels;
  }

  private key(host: ExistingHost): string {
    return `${host.host}:${host.port ?? this.options.defaultPort}`;
  }

  private instance(key: string, name: string, labels: Record<string, string>): VmInstance {
    const host = this.options.hosts.find((h) => this.key(h) === key)!;
    return {
      id: key,
      name,
      status: 'running',
      ssh: { host: host.host, port: host.port ?? this.options.defaultPort, user: host.user ?? this.options.defaultUser },
      ip: host.host,
      labels: { ...labels, [LABELS.managed]: 'true' },
    };
  }
}
