import { KamalDevError } from '../errors';
import { DevState, readState, SshClaim, updateState } from '../state/devState';
import { adoptMissingError, notOursError } from './ownership';
import { DestroyOutcome, LABELS, Provider, ProvisionedVm, ProvisionRequest, VmInstance } from './types';

export interface ExistingHost {
  host: string;
  port?: number;
  user?: string;
}

/** What the owner marker on a claimed host (/opt/kamal-dev/.owner) says. */
export interface HostMarker {
  project: string;
  name: string;
}

/** What the ssh provider does on a claimed host through SSH (the activities own the SSH session). */
export interface HostStack {
  /** Removes the stack and its files from the host; the host itself stays. */
  remove(vm: VmInstance): Promise<void>;
  stop(vm: VmInstance): Promise<void>;
  start(vm: VmInstance): Promise<void>;
  /** Absent on a host that no kamal-dev project holds. */
  readMarker(vm: VmInstance): Promise<HostMarker | undefined>;
  writeMarker(vm: VmInstance, marker: HostMarker): Promise<void>;
  removeMarker(vm: VmInstance): Promise<void>;
}

export interface SshProviderOptions {
  hosts: ExistingHost[];
  stateFile: string;
  defaultUser: string;
  defaultPort: number;
  hostStack: HostStack;
  identity: string;
}

/** A claim as found in the state file; `fresh` when this call just made it. */
type Claimed = { key: string; claim: SshClaim | string; fresh?: boolean };

/**
 * Existing machines listed in config: a VM "provisioned" here is a claim on one of them, recorded
 * twice: in .kamal/dev_state.yml (with the project identity) and in a marker on the host, which
 * every other checkout sees too. A host whose marker names another identity is never claimed.
 */
export class SshProvider implements Provider {
  readonly type = 'ssh';

  constructor(private readonly options: SshProviderOptions) {}

  async provision(request: ProvisionRequest): Promise<ProvisionedVm> {
    const refused = new Set<string>();
    for (;;) {
      const picked = await updateState(this.options.stateFile, (state) => this.claimedBy(state, request.name) ?? this.claimFree(state, request, refused));
      if (!picked) throw this.noFreeHost(refused.size);
      const claim = this.ownClaim(request.name, picked.claim);
      const vm = this.instance(picked.key, claim, request.labels);
      const fresh = picked.fresh === true;
      let marker: HostMarker | undefined;
      try {
        marker = await this.options.hostStack.readMarker(vm);
      } catch (error) {
        if (fresh) await this.release(picked.key, request.name);
        throw error;
      }
      if (marker && marker.project !== this.options.identity) {
        if (!fresh) throw notOursError(request.name, 'foreign', { [LABELS.project]: marker.project });
        await this.release(picked.key, request.name);
        refused.add(picked.key);
        continue;
      }
      if (!marker || marker.name !== request.name) await this.options.hostStack.writeMarker(vm, { project: this.options.identity, name: request.name });
      return { ...vm, created: claim.created_by !== undefined && claim.created_by === request.createdBy };
    }
  }

  async destroy(name: string, options: { createdBy?: string } = {}): Promise<DestroyOutcome> {
    const found = this.claimedBy(readState(this.options.stateFile), name);
    if (!found) return 'gone';
    if (options.createdBy !== undefined) {
      const claim = found.claim;
      if (typeof claim === 'string' || claim.project !== this.options.identity || claim.created_by !== options.createdBy) return 'kept';
    }
    const vm = await this.checkedHost(name, found);
    await this.options.hostStack.remove(vm);
    await this.options.hostStack.removeMarker(vm);
    await this.release(found.key, name);
    return 'destroyed';
  }

  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const state = readState(this.options.stateFile);
    return this.configured(state)
      .filter((c): c is { key: string; claim: SshClaim } => typeof c.claim !== 'string' && c.claim.project === this.options.identity)
      .map(({ key, claim }) => this.instance(key, claim, this.labelsOf(state, claim.name)))
      .filter((vm) => Object.entries(labels).every(([k, v]) => vm.labels[k] === v));
  }

  async stop(name: string): Promise<void> {
    await this.options.hostStack.stop(await this.checkedHost(name));
  }

  async start(name: string): Promise<VmInstance> {
    const vm = await this.checkedHost(name);
    await this.options.hostStack.start(vm);
    return vm;
  }

  /**
   * Takes over the host that a claim of this name (of any identity) or a host's marker names. Its
   * SSH key is the one in config (ssh.key): nothing to authorise.
   */
  async adopt(name: string): Promise<VmInstance> {
    const state = readState(this.options.stateFile);
    const key = this.claimedBy(state, name)?.key ?? (await this.markedFor(name, state));
    if (!key) throw adoptMissingError(name);
    const claim: SshClaim = { name, project: this.options.identity };
    const vm = this.instance(key, claim, this.labelsOf(state, name));
    await this.options.hostStack.writeMarker(vm, { project: this.options.identity, name });
    await updateState(this.options.stateFile, (s) => void (s.ssh_claims[key] = claim));
    return vm;
  }

  /** The unclaimed host whose marker names this VM (claimed by a checkout whose state is elsewhere). */
  private async markedFor(name: string, state: DevState): Promise<string | undefined> {
    for (const key of this.options.hosts.map((h) => this.key(h)).filter((k) => !(k in state.ssh_claims))) {
      const marker = await this.options.hostStack.readMarker(this.instance(key, { name, project: this.options.identity }, {}));
      if (marker?.name === name) return key;
    }
    return undefined;
  }

  /** This project's claim of `name`, on a host whose marker does not name another identity. */
  private async checkedHost(name: string, found = this.claimedBy(readState(this.options.stateFile), name)): Promise<VmInstance> {
    if (!found) throw new KamalDevError('provider', `no host is claimed by ${name}`, { description: 'Run `kamal-dev list` to see the deployments.' });
    const vm = this.instance(found.key, this.ownClaim(name, found.claim), {});
    const marker = await this.options.hostStack.readMarker(vm);
    if (marker && marker.project !== this.options.identity) throw notOursError(name, 'foreign', { [LABELS.project]: marker.project });
    return vm;
  }

  private ownClaim(name: string, claim: SshClaim | string): SshClaim {
    if (typeof claim === 'string') throw notOursError(name, 'unowned');
    if (claim.project !== this.options.identity) throw notOursError(name, 'foreign', { [LABELS.project]: claim.project });
    return claim;
  }

  private claimFree(state: DevState, request: ProvisionRequest, refused: Set<string>): Claimed | undefined {
    const free = this.options.hosts.map((h) => this.key(h)).find((k) => !(k in state.ssh_claims) && !refused.has(k));
    if (!free) return undefined;
    const claim: SshClaim = { name: request.name, project: this.options.identity, ...(request.createdBy ? { created_by: request.createdBy } : {}) };
    state.ssh_claims[free] = claim;
    return { key: free, claim, fresh: true };
  }

  private async release(key: string, name: string): Promise<void> {
    await updateState(this.options.stateFile, (state) => {
      const claim = state.ssh_claims[key];
      if (claim && typeof claim !== 'string' && claim.name === name && claim.project === this.options.identity) delete state.ssh_claims[key];
    });
  }

  private claimedBy(state: DevState, name: string): Claimed | undefined {
    return this.configured(state).find(({ claim }) => (typeof claim === 'string' ? claim : claim.name) === name);
  }

  private configured(state: DevState): Claimed[] {
    return Object.entries(state.ssh_claims)
      .filter(([key]) => this.options.hosts.some((h) => this.key(h) === key))
      .map(([key, claim]) => ({ key, claim }));
  }

  private noFreeHost(heldElsewhere: number): KamalDevError {
    const others = heldElsewhere ? `; ${heldElsewhere} of them held by another kamal-dev project (their marker says so), left untouched` : '';
    return new KamalDevError('provider', `every host in the ssh provider's list is already in use (${this.options.hosts.length} hosts${others})`, {
      key: 'provider/hosts',
      description: 'Add hosts to provider.hosts in config/dev.yml, or remove a deployment with `kamal-dev remove` (a host of yours that another checkout held: `kamal-dev adopt NAME`).',
    });
  }

  private labelsOf(state: DevState, name: string): Record<string, string> {
    const record = state.deployments[name];
    const labels: Record<string, string> = {};
    if (record?.service) labels[LABELS.service] = labels[LABELS.deployment] = record.service;
    if (record?.index !== undefined) labels[LABELS.index] = String(record.index);
    return labels;
  }

  private key(host: ExistingHost): string {
    return `${host.host}:${host.port ?? this.options.defaultPort}`;
  }

  private instance(key: string, claim: SshClaim, labels: Record<string, string>): VmInstance {
    const host = this.options.hosts.find((h) => this.key(h) === key)!;
    return {
      id: key,
      name: claim.name,
      status: 'running',
      ssh: { host: host.host, port: host.port ?? this.options.defaultPort, user: host.user ?? this.options.defaultUser },
      ip: host.host,
      labels: { ...labels, [LABELS.managed]: 'true', [LABELS.project]: claim.project, ...(claim.created_by ? { [LABELS.createdBy]: claim.created_by } : {}) },
    };
  }
}
