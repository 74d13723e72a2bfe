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
  /** service, deployment, index, created-by: what a worker without the source's state file lists it by. */
  labels?: Record<string, string>;
}

/** What the ssh provider does on a claimed host through SSH (the activities own the SSH session). */
export interface HostStack {
  /** Removes the stack and its files from the host; the host itself stays. */
  remove(vm: VmInstance): Promise<void>;
  stop(vm: VmInstance): Promise<void>;
  start(vm: VmInstance): Promise<void>;
  /** Absent on a host that no kamal-dev project holds. */
  readMarker(vm: VmInstance): Promise<HostMarker | undefined>;
  /** Replaces the marker (adopt). */
  writeMarker(vm: VmInstance, marker: HostMarker): Promise<void>;
  /**
   * Writes the marker only if the host has none, atomically on the host: of two workers claiming it
   * at once, one wins. Returns the marker that holds the host when it was not free.
   */
  claimMarker(vm: VmInstance, marker: HostMarker): Promise<HostMarker | undefined>;
  removeMarker(vm: VmInstance): Promise<void>;
}

export interface SshProviderOptions {
  hosts: ExistingHost[];
  /** .kamal/dev_state.yml where this machine holds the project: a cache of the claims (the markers decide). */
  stateFile?: string;
  defaultUser: string;
  defaultPort: number;
  hostStack: HostStack;
  identity: string;
}

/**
 * Existing machines listed in config: a VM "provisioned" here is a claim on one of them, made by the
 * owner marker on the host itself (written only where none is), so every worker on every machine sees
 * the same claims and none is made twice. The source machine's state file keeps a copy for `adopt`
 * of claims made before identities, and labels. A host whose marker names another identity is never claimed.
 */
export class SshProvider implements Provider {
  readonly type = 'ssh';

  constructor(private readonly options: SshProviderOptions) {}

  async provision(request: ProvisionRequest): Promise<ProvisionedVm> {
    const state = this.cache();
    const cached = this.claimedBy(state, request.name);
    if (cached) this.ownClaim(request.name, cached.claim);
    const mine: HostMarker = { project: this.options.identity, name: request.name, labels: { ...request.labels, ...(request.createdBy ? { [LABELS.createdBy]: request.createdBy } : {}) } };
    const found = await this.markedHost(request.name, state);
    if (found) {
      // A marker from before markers carried labels: rewritten, so workers without the state file can list it.
      if (!found.labeled) await this.options.hostStack.writeMarker(found.vm, { ...mine, labels: { ...request.labels, ...(found.createdBy ? { [LABELS.createdBy]: found.createdBy } : {}) } });
      return { ...found.vm, created: found.createdBy !== undefined && found.createdBy === request.createdBy };
    }
    let foreign = 0;
    // The markers decide which host is free (a copy in the state file may be stale); a claim from before identities is left alone.
    for (const key of this.keys().filter((k) => typeof state.ssh_claims[k] !== 'string')) {
      const vm = this.instance(key, mine);
      const holder = await this.options.hostStack.claimMarker(vm, mine);
      if (holder?.project === mine.project && holder.name === mine.name) return { ...this.instance(key, holder), created: holder.labels?.[LABELS.createdBy] === request.createdBy && request.createdBy !== undefined };
      if (holder) {
        if (holder.project !== mine.project) foreign++;
        continue;
      }
      await this.remember(key, { name: request.name, project: mine.project, ...(request.createdBy ? { created_by: request.createdBy } : {}) });
      return { ...vm, created: request.createdBy !== undefined };
    }
    throw this.noFreeHost(foreign);
  }

  async destroy(name: string, options: { createdBy?: string } = {}): Promise<DestroyOutcome> {
    const state = this.cache();
    const cached = this.claimedBy(state, name);
    if (cached && typeof cached.claim === 'string') {
      if (options.createdBy !== undefined) return 'kept';
      throw notOursError(name, 'unowned');
    }
    const found = await this.markedHost(name, state);
    if (!found) return 'gone';
    if (options.createdBy !== undefined && found.createdBy !== options.createdBy) return 'kept';
    await this.options.hostStack.remove(found.vm);
    await this.options.hostStack.removeMarker(found.vm);
    await this.forget(found.vm.id, name);
    return 'destroyed';
  }

  /**
   * Every configured host whose marker names this project; all of them are asked. A host that does
   * not answer is listed as `unknown` when the state file holds this project's claim of it.
   */
  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const state = this.cache();
    const asked = await Promise.all(this.keys().map(async (key) => ({ key, marker: await this.markerAt(key).catch(() => this.cachedMarker(state, key)) })));
    return asked
      .filter((m): m is { key: string; marker: HostMarker & { unknown?: boolean } } => m.marker?.project === this.options.identity)
      .map(({ key, marker }) => ({ ...this.instance(key, marker, state), ...(marker.unknown ? { status: 'unknown' as const } : {}) }))
      .filter((vm) => Object.entries(labels).every(([k, v]) => vm.labels[k] === v));
  }

  private cachedMarker(state: DevState, key: string): (HostMarker & { unknown: true }) | undefined {
    const claim = state.ssh_claims[key];
    return claim && typeof claim === 'object' ? { project: claim.project, name: claim.name, unknown: true } : undefined;
  }

  async stop(name: string): Promise<void> {
    await this.options.hostStack.stop(await this.ownHost(name));
  }

  async start(name: string): Promise<VmInstance> {
    const vm = await this.ownHost(name);
    await this.options.hostStack.start(vm);
    return vm;
  }

  /**
   * Takes over the host that a claim of this name (of any identity) or a host's marker names. Its
   * SSH key is the one in config (ssh.key): nothing to authorise.
   */
  async adopt(name: string): Promise<VmInstance> {
    const state = this.cache();
    const key = this.claimedBy(state, name)?.key ?? (await this.markedFor(name));
    if (!key) throw adoptMissingError(name);
    const previous = await this.markerAt(key);
    const marker: HostMarker = { project: this.options.identity, name, labels: { ...this.labelsOf(state, name), ...previous?.labels } };
    delete marker.labels![LABELS.createdBy];
    const vm = this.instance(key, marker);
    await this.options.hostStack.writeMarker(vm, marker);
    await this.remember(key, { name, project: this.options.identity });
    return vm;
  }

  /** This project's host of that name, as its marker says; a marker of another identity is an error. */
  private async markedHost(name: string, state: DevState): Promise<{ vm: VmInstance; createdBy?: string; labeled: boolean } | undefined> {
    const cached = this.claimedBy(state, name);
    const keys = cached ? [cached.key, ...this.keys().filter((k) => k !== cached.key)] : this.keys();
    for (const key of keys) {
      const marker = await this.markerAt(key);
      if (key === cached?.key && marker && marker.project !== this.options.identity) throw notOursError(name, 'foreign', { [LABELS.project]: marker.project });
      if (marker?.project !== this.options.identity || marker.name !== name) continue;
      const createdBy = marker.labels?.[LABELS.createdBy] ?? (typeof cached?.claim === 'object' ? cached.claim.created_by : undefined);
      return { vm: this.instance(key, marker, state), createdBy, labeled: marker.labels !== undefined };
    }
    return undefined;
  }

  private async ownHost(name: string): Promise<VmInstance> {
    const found = await this.markedHost(name, this.cache());
    if (!found) throw new KamalDevError('provider', `no host is claimed by ${name}`, { description: 'Run `kamal-dev list` to see the deployments.' });
    return found.vm;
  }

  /** The unclaimed host whose marker names this VM, of any identity (claimed by a checkout whose state is elsewhere). */
  private async markedFor(name: string): Promise<string | undefined> {
    for (const key of this.keys()) if ((await this.markerAt(key))?.name === name) return key;
    return undefined;
  }

  private markerAt(key: string): Promise<HostMarker | undefined> {
    return this.options.hostStack.readMarker(this.instance(key, { project: this.options.identity, name: '' }));
  }

  private ownClaim(name: string, claim: SshClaim | string): void {
    if (typeof claim === 'string') throw notOursError(name, 'unowned');
    if (claim.project !== this.options.identity) throw notOursError(name, 'foreign', { [LABELS.project]: claim.project });
  }

  private cache(): DevState {
    return this.options.stateFile ? readState(this.options.stateFile) : { deployments: {}, ssh_claims: {} };
  }

  private async remember(key: string, claim: SshClaim): Promise<void> {
    if (this.options.stateFile) await updateState(this.options.stateFile, (state) => void (state.ssh_claims[key] = claim));
  }

  private async forget(key: string, name: string): Promise<void> {
    if (!this.options.stateFile) return;
    await updateState(this.options.stateFile, (state) => {
      const claim = state.ssh_claims[key];
      if (claim && typeof claim !== 'string' && claim.name === name && claim.project === this.options.identity) delete state.ssh_claims[key];
    });
  }

  private claimedBy(state: DevState, name: string): { key: string; claim: SshClaim | string } | undefined {
    return Object.entries(state.ssh_claims)
      .filter(([key]) => this.keys().includes(key))
      .map(([key, claim]) => ({ key, claim }))
      .find(({ claim }) => (typeof claim === 'string' ? claim : claim.name) === name);
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

  private keys(): string[] {
    return this.options.hosts.map((h) => `${h.host}:${h.port ?? this.options.defaultPort}`);
  }

  /** Labels from the marker; a marker from before labels takes them from the state file, where there is one. */
  private instance(key: string, marker: HostMarker, state?: DevState): VmInstance {
    const host = this.options.hosts.find((h) => `${h.host}:${h.port ?? this.options.defaultPort}` === key)!;
    return {
      id: key,
      name: marker.name,
      status: 'running',
      ssh: { host: host.host, port: host.port ?? this.options.defaultPort, user: host.user ?? this.options.defaultUser },
      ip: host.host,
      labels: { ...(state && !marker.labels ? this.labelsOf(state, marker.name) : {}), ...marker.labels, [LABELS.managed]: 'true', [LABELS.project]: marker.project },
    };
  }
}
