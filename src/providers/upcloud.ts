import { isKamalDevError, KamalDevError } from '../errors';
import { ProviderConfig } from '../spec/plan';
import { LABELS, Provider, ProvisionRequest, VmInstance } from './types';
import { realSleep, ResolveSecret, RetryPolicy, Sleep, UpcloudApi } from './upcloud-api';
import { labelQuery, toUpcloudLabels } from './upcloud-labels';
import { chooseTemplate, createServerBody, PlanSummary, publicIpv4, ServerDetails, ServerSummary, StorageSummary, toVmInstance } from './upcloud-shapes';
import { ServerStates } from './upcloud-states';

export type UpcloudConfig = Extract<ProviderConfig, { type: 'upcloud' }>;

export interface UpcloudProviderOptions {
  resolveSecret: ResolveSecret;
  /** How long to wait between two looks at a server's state. */
  pollIntervalMs?: number;
  /** How long a server may take to reach `started`; a new one that does not is deleted again. */
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** How long one API call may go unanswered (default 60 s); then it counts as a transient failure. */
  requestTimeoutMs?: number;
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
  private readonly states: ServerStates;
  private readonly startTimeoutMs: number;

  constructor(
    private readonly config: UpcloudConfig,
    options: UpcloudProviderOptions,
  ) {
    this.api = new UpcloudApi({
      baseUrl: config.apiUrl ?? UPCLOUD_API_URL,
      usernameSecret: config.usernameSecret,
      passwordSecret: config.passwordSecret,
      resolveSecret: options.resolveSecret,
      retry: options.retry,
      sleep: options.sleep,
      requestTimeoutMs: options.requestTimeoutMs,
    });
    this.states = new ServerStates(this.api, options.sleep ?? realSleep, {
      pollIntervalMs: options.pollIntervalMs ?? 5_000,
      stopTimeoutMs: options.stopTimeoutMs ?? 300_000,
    });
    this.startTimeoutMs = options.startTimeoutMs ?? 600_000;
  }

  async provision(request: ProvisionRequest, signal?: AbortSignal): Promise<VmInstance> {
    const startTimeoutMs = request.deadline === undefined ? this.startTimeoutMs : Math.min(this.startTimeoutMs, request.deadline - Date.now());
    const existing = (await this.findAll(request.name, signal))[0];
    if (existing) return reachable(await this.states.start(existing, startTimeoutMs, signal));
    const created = await this.create(request, signal);
    try {
      return reachable(await this.states.waitFor(created, 'started', startTimeoutMs, signal));
    } catch (error) {
      // A cancelled activity is compensated by destroy(name); anything else is cleaned up here.
      if (signal?.aborted) throw error;
      throw await this.discard(created, error);
    }
  }

  async destroy(name: string): Promise<void> {
    for (const server of await this.findAll(name)) await this.states.remove(server);
  }

  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const wanted = toUpcloudLabels(labels);
    const servers = await this.servers(labelQuery(labels));
    const details = await Promise.all(servers.map((s) => this.states.details(s.uuid)));
    // UpCloud filters already; checking the details again keeps a loose filter from leaking other servers.
    const matches = (d: ServerDetails | null): d is ServerDetails =>
      d !== null && wanted.every((w) => (d.labels?.label ?? []).some((l) => l.key === w.key && l.value === w.value));
    return details.filter(matches).map(toVmInstance);
  }

  async stop(name: string): Promise<void> {
    await this.states.stop(await this.one(name), 'soft');
  }

  async start(name: string, signal?: AbortSignal): Promise<VmInstance> {
    return reachable(await this.states.start(await this.one(name, signal), this.startTimeoutMs, signal));
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
      await this.states.remove(server);
      // Nothing is left, so a fault worth retrying (the API failing for a moment) still is.
      return new KamalDevError('provider', `${why}; it was deleted`, { cause, retry: isKamalDevError(cause) ? cause.retry : 'final' });
    } catch (error) {
      return new KamalDevError('provider', `${why}; deleting it failed: ${(error as Error).message}`, {
        cause,
        description: `Delete server ${server.uuid} in the UpCloud Hub (or run kamal-dev remove ${server.title}) so it stops costing money.`,
      });
    }
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
}

function reachable(server: ServerDetails): VmInstance {
  if (!publicIpv4(server)) throw new KamalDevError('provider', `UpCloud server ${server.title} (${server.uuid}) has no public IPv4 address`);
  return toVmInstance(server);
}
