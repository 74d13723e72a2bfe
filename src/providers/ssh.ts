import { KamalDevError } from '../errors';
import type { DevState, SshClaim } from '../state/devState';
import { adoptMissingError, notOursError } from './ownership';
import { ClaimCache } from './ssh-claims';
import type { ExistingHost, HostMarker, HostStack } from './ssh-host';
import { DestroyOutcome, LABELS, Provider, ProvisionedVm, ProvisionRequest, VmInstance } from './types';

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

  private readonly claims: ClaimCache;

  constructor(private readonly options: SshProviderOptions) {
    this.claims = new ClaimCache(options.stateFile, options.identity);
  }

  async provision(request: ProvisionRequest): Promise<ProvisionedVm> {
    const state = this.claims.read();
    const cached = this.claims.claimedBy(state, this.keys(), request.name);
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
      await this.claims.remember(key, { name: request.name, project: mine.project, ...(request.createdBy ? { created_by: request.createdBy } : {}) });
      return { ...vm, created: request.createdBy !== undefined };
    }
    throw this.noFreeHost(foreign);
  }

  async destroy(name: string, options: { createdBy?: string } = {}): Promise<DestroyOutcome> {
    const state = this.claims.read();
    const cached = this.claims.claimedBy(state, this.keys(), name);
    if (cached && typeof cached.claim === 'string') {
      if (options.createdBy !== undefined) return 'kept';
      throw notOursError(name, 'unowned');
    }
    const found = await this.markedHost(name, state);
    if (!found) return 'gone';
    if (options.createdBy !== undefined && found.createdBy !== options.createdBy) return 'kept';
    await this.options.hostStack.remove(found.vm);
    await this.options.hostStack.removeMarker(found.vm);
    await this.claims.forget(found.vm.id, name);
    return 'destroyed';
  }

  /**
   * Every configured host whose marker names this project; all of them are asked. A host that does
   * not answer is listed as `unknown` when the state file holds this project's claim of it.
   */
  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const state = this.claims.read();
    const asked = await Promise.all(this.keys().map(async (key) => ({ key, marker: await this.markerAt(key).catch(() => this.claims.cachedMarker(state, key)) })));
    return asked
      .filter((m): m is { key: string; marker: HostMarker & { unknown?: boolean } } => m.marker?.project === this.options.identity)
      .map(({ key, marker }) => ({ ...this.instance(key, marker, state), ...(marker.unknown ? { status: 'unknown' as const } : {}) }))
      .filter((vm) => Object.entries(labels).every(([k, v]) => vm.labels[k] === v));
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
    const state = this.claims.read();
    const key = this.claims.claimedBy(state, this.keys(), name)?.key ?? (await this.markedFor(name));
    if (!key) throw adoptMissingError(name);
    const previous = await this.markerAt(key);
    const marker: HostMarker = { project: this.options.identity, name, labels: { ...this.claims.labelsOf(state, name), ...previous?.labels } };
    delete marker.labels![LABELS.createdBy];
    const vm = this.instance(key, marker);
    await this.options.hostStack.writeMarker(vm, marker);
    await this.claims.remember(key, { name, project: this.options.identity });
    return vm;
  }

  /** This project's host of that name, as its marker says; a marker of another identity is an error. */
  private async markedHost(name: string, state: DevState): Promise<{ vm: VmInstance; createdBy?: string; labeled: boolean } | undefined> {
    const cached = this.claims.claimedBy(state, this.keys(), name);
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
    const found = await this.markedHost(name, this.claims.read());
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

  private noFreeHost(heldElsewhere: number): KamalDevError {
    const others = heldElsewhere ? `; ${heldElsewhere} of them held by another kamal-dev project (their marker says so), left untouched` : '';
    return new KamalDevError('provider', `every host in the ssh provider's list is already in use (${this.options.hosts.length} hosts${others})`, {
      key: 'provider/hosts',
      description: 'Add hosts to provider.hosts in config/dev.yml, or remove a deployment with `kamal-dev remove` (a host of yours that another checkout held: `kamal-dev adopt NAME`).',
    });
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
      labels: { ...(state && !marker.labels ? this.claims.labelsOf(state, marker.name) : {}), ...marker.labels, [LABELS.managed]: 'true', [LABELS.project]: marker.project },
    };
  }
}
