import { KamalDevError } from '../errors';
import { ProviderConfig } from '../spec/plan';
import { LABELS, Provider, ProvisionRequest, VmInstance } from './types';
import { isNotFound, realSleep, ResolveSecret, RetryPolicy, Sleep, UpcloudApi, UpcloudApiError } from './upcloud-api';
import { labelQuery, toUpcloudKey } from './upcloud-labels';
import { chooseTemplate, createServerBody, PlanSummary, publicIpv4, ServerDetails, ServerState, ServerSummary, StorageSummary, toVmInstance } from './upcloud-server';

export type UpcloudConfig = Extract<ProviderConfig, { type: 'upcloud' }>;

export interface UpcloudProviderOptions {
  resolveSecret: ResolveSecret;
  /** How long to wait between two looks at a server's state. */
  pollIntervalMs?: number;
  /** How long a new server may take to reach `started` before it is deleted again. */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  sleep?: Sleep;
}

export const UPCLOUD_API_URL = 'https://api.upcloud.com/1.3';

export function createUpcloudProvider(config: UpcloudConfig, options: UpcloudProviderOptions): Provider {
  return new UpcloudProvider(config, options);
}

/** Finds its servers by title among the servers that carry the kamal-dev.managed label. */
class UpcloudProvider implements Provider {
  readonly type = 'upcloud';
  private readonly api: UpcloudApi;
  private readonly sleep: Sleep;
  private readonly pollIntervalMs: number;

  constructor(
    private readonly config: UpcloudConfig,
    private readonly options: UpcloudProviderOptions,
  ) {
    this.sleep = options.sleep ?? realSleep;
    this.pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.api = new UpcloudApi({
      baseUrl: config.apiUrl ?? UPCLOUD_API_URL,
      usernameSecret: config.usernameSecret,
      passwordSecret: config.passwordSecret,
      resolveSecret: options.resolveSecret,
      retry: options.retry,
      sleep: options.sleep,
    });
  }

  async provision(request: ProvisionRequest, signal?: AbortSignal): Promise<VmInstance> {
    const existing = (await this.findAll(request.name, signal))[0];
    if (existing) return this.start(request.name, signal);
    const created = await this.create(request, signal);
    try {
      return this.reachable(await this.waitFor(created, 'started', this.options.startTimeoutMs ?? 600_000, signal));
    } catch (error) {
      // A cancelled activity is compensated by destroy(name); anything else is cleaned up here.
      if (signal?.aborted) throw error;
      throw await this.discard(created, error);
    }
  }

  async destroy(name: string): Promise<void> {
    for (const server of await this.findAll(name)) await this.remove(server);
  }

  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const wanted = Object.entries(labels).map(([key, value]) => `${toUpcloudKey(key)}=${value}`);
    const servers = (await this.servers(labelQuery(labels))).filter((s) =>
      wanted.every((pair) => (s.labels?.label ?? []).some((l) => `${l.key}=${l.value}` === pair)),
    );
    const details = await Promise.all(servers.map((s) => this.details(s.uuid)));
    return details.filter((d): d is ServerDetails => d !== null).map(toVmInstance);
  }

  async stop(name: string): Promise<void> {
    await this.stopServer(await this.one(name), 'soft');
  }

  async start(name: string, signal?: AbortSignal): Promise<VmInstance> {
    const server = await this.one(name, signal);
    if (server.state === 'stopped') await this.ignoringStateConflict(this.api.request('POST', `/server/${server.uuid}/start`, { server: {} }, signal));
    return this.reachable(await this.waitFor(server, 'started', this.options.startTimeoutMs ?? 600_000, signal));
  }

  private async create(request: ProvisionRequest, signal?: AbortSignal): Promise<ServerSummary> {
    const [templates, plans] = await Promise.all([
      this.api.request<{ storages: { storage: StorageSummary[] } }>('GET', '/storage/template', undefined, signal),
      this.api.request<{ plans: { plan: PlanSummary[] } }>('GET', '/plan', undefined, signal),
    ]);
    const plan = plans.plans.plan.find((p) => p.name === this.config.plan);
    if (!plan) {
      throw new KamalDevError('config', `UpCloud has no plan "${this.config.plan}"`, {
        key: 'provider.plan',
        description: `Use one of: ${plans.plans.plan.map((p) => p.name).slice(0, 12).join(', ')}.`,
      });
    }
    const body = createServerBody({
      name: request.name,
      zone: this.config.zone,
      plan: plan.name,
      templateUuid: chooseTemplate(templates.storages.storage, this.config.template).uuid,
      storageSizeGb: plan.storage_size,
      storageTier: plan.storage_tier ?? 'maxiops',
      sshPublicKey: request.sshPublicKey,
      labels: { [LABELS.managed]: 'true', ...request.labels },
    });
    let retrying = false;
    // An attempt that failed with a 5xx may still have created the server: look before posting again.
    return this.api.withRetries(async () => {
      const earlier = retrying ? (await this.findAll(request.name, signal))[0] : undefined;
      retrying = true;
      return earlier ?? (await this.api.send<{ server: ServerSummary }>('POST', '/server', body, signal)).server;
    }, signal);
  }

  private async discard(server: ServerSummary, cause: unknown): Promise<KamalDevError> {
    const why = cause instanceof Error ? cause.message : String(cause);
    try {
      await this.remove(server);
      return new KamalDevError('provider', `UpCloud server ${server.title} did not start and was deleted: ${why}`, { cause });
    } catch (error) {
      return new KamalDevError('provider', `UpCloud server ${server.title} did not start, and deleting it failed: ${(error as Error).message}`, {
        cause,
        description: `Delete server ${server.uuid} in the UpCloud Hub (or run kamal-dev remove ${server.title}) so it stops costing money.`,
      });
    }
  }

  /** Stop (hard) unless stopped, then delete it with its disks and their backups. */
  private async remove(server: ServerSummary): Promise<void> {
    if (!(await this.stopServer(server, 'hard'))) return;
    await this.api.request('DELETE', `/server/${server.uuid}?storages=1&backups=delete`).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }

  /** Resolves false when the server is gone. A stop asked for during `maintenance` is asked again. */
  private async stopServer(server: ServerSummary, stopType: 'soft' | 'hard'): Promise<boolean> {
    const deadline = Date.now() + (this.options.stopTimeoutMs ?? 300_000);
    const body = { stop_server: { stop_type: stopType, ...(stopType === 'soft' ? { timeout: '60' } : {}) } };
    for (let accepted = false; ; await this.sleep(this.pollIntervalMs)) {
      const now = await this.details(server.uuid);
      if (!now) return false;
      if (now.state === 'stopped') return true;
      if (Date.now() > deadline) throw this.timeout(server, 'stopped', now.state);
      accepted ||= await this.ignoringStateConflict(this.api.request('POST', `/server/${server.uuid}/stop`, body).then(() => true));
    }
  }

  private async waitFor(server: ServerSummary, state: ServerState, timeoutMs: number, signal?: AbortSignal): Promise<ServerDetails> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.details(server.uuid, signal);
      if (!now) throw new KamalDevError('provider', `UpCloud server ${server.title} (${server.uuid}) disappeared while waiting for it to be ${state}`);
      if (now.state === state) return now;
      if (now.state === 'error') throw new KamalDevError('provider', `UpCloud server ${server.title} (${server.uuid}) is in state error`);
      if (Date.now() > deadline) throw this.timeout(server, state, now.state);
      await this.sleep(this.pollIntervalMs, signal);
    }
  }

  private timeout(server: ServerSummary, wanted: ServerState, last: ServerState): KamalDevError {
    return new KamalDevError('provider', `UpCloud server ${server.title} (${server.uuid}) was not ${wanted} in time (last state: ${last})`);
  }

  private reachable(server: ServerDetails): VmInstance {
    if (!publicIpv4(server)) throw new KamalDevError('provider', `UpCloud server ${server.title} (${server.uuid}) has no public IPv4 address`);
    return toVmInstance(server);
  }

  /** UpCloud answers 409 SERVER_STATE_ILLEGAL to a start or stop the server is not ready for; the poll decides. */
  private async ignoringStateConflict(call: Promise<unknown>): Promise<boolean> {
    return call.then(
      () => true,
      (error) => {
        if (error instanceof UpcloudApiError && error.status === 409) return false;
        throw error;
      },
    );
  }

  private async one(name: string, signal?: AbortSignal): Promise<ServerSummary> {
    const server = (await this.findAll(name, signal))[0];
    if (!server) throw new KamalDevError('provider', `no UpCloud server named ${name} managed by kamal-dev`, { description: 'Run kamal-dev list to see the VMs that exist.' });
    return server;
  }

  private async findAll(name: string, signal?: AbortSignal): Promise<ServerSummary[]> {
    return (await this.servers(labelQuery({ [LABELS.managed]: undefined }), signal)).filter((s) => s.title === name);
  }

  private async servers(query: string, signal?: AbortSignal): Promise<ServerSummary[]> {
    return (await this.api.request<{ servers: { server: ServerSummary[] } }>('GET', `/server${query}`, undefined, signal)).servers.server;
  }

  private async details(uuid: string, signal?: AbortSignal): Promise<ServerDetails | null> {
    return this.api.request<{ server: ServerDetails }>('GET', `/server/${uuid}`, undefined, signal).then(
      (body) => body.server,
      (error) => {
        if (isNotFound(error)) return null;
        throw error;
      },
    );
  }
}
