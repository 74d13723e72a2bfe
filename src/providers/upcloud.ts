import { isKamalDevError, KamalDevError } from '../errors';
import { ProviderConfig } from '../spec/plan';
import { adoptMissingError } from './ownership';
import { DestroyOutcome, LABELS, Provider, ProvisionedVm, ProvisionRequest, VmInstance } from './types';
import { realSleep, ResolveSecret, RetryPolicy, Sleep, UpcloudApi } from './upcloud-api';
import { applyFirewall, firewallRules } from './upcloud-firewall';
import { labelQuery, toUpcloudLabels } from './upcloud-labels';
import { bootInstallScript } from '../docker/bootstrap';
import { chooseTemplate, createServerBody, templateOs, labelsOf, notOursOf, PlanSummary, publicIpv4, ServerDetails, ServerSummary, StorageSummary, toVmInstance, UPCLOUD_SSH_PORT } from './upcloud-shapes';
import { ServerStates } from './upcloud-states';

export type UpcloudConfig = Extract<ProviderConfig, { type: 'upcloud' }>;

export interface UpcloudProviderOptions {
  resolveSecret: ResolveSecret;
  /** The project identity whose servers this provider sees. */
  identity: string;
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

/**
 * Finds its servers by title among the servers that carry the kamal-dev.managed label, and takes only
 * those of its project identity: titles are not unique, so two projects' `shop-1` may both exist.
 */
class UpcloudProvider implements Provider {
  readonly type = 'upcloud';
  private readonly identity: string;
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
    this.identity = options.identity;
  }

  async provision(request: ProvisionRequest, signal?: AbortSignal): Promise<ProvisionedVm> {
    const startTimeoutMs = request.deadline === undefined ? this.startTimeoutMs : Math.min(this.startTimeoutMs, request.deadline - Date.now());
    const existing = await this.one(request.name, signal, 'none is fine');
    if (existing) {
      const madeByThisRun = request.createdBy !== undefined && labelsOf(existing)[LABELS.createdBy] === request.createdBy;
      return { ...reachable(await this.guarded(await this.states.start(existing, startTimeoutMs, signal), request, signal)), created: madeByThisRun };
    }
    const created = await this.create(request, signal);
    try {
      return { ...reachable(await this.guarded(await this.states.waitFor(created, 'started', startTimeoutMs, signal), request, signal)), created: true };
    } catch (error) {
      // A cancelled activity is compensated by destroy(name); anything else is cleaned up here.
      if (signal?.aborted) throw error;
      throw await this.discard(created, error);
    }
  }

  async destroy(name: string, options: { createdBy?: string } = {}): Promise<DestroyOutcome> {
    const { ours, others } = await this.named(name);
    if (options.createdBy !== undefined) {
      const mine = ours.filter((s) => labelsOf(s)[LABELS.createdBy] === options.createdBy);
      for (const server of mine) await this.states.remove(server);
      return mine.length ? 'destroyed' : ours.length || others.length ? 'kept' : 'gone';
    }
    if (ours.length === 0 && others.length) throw notOursOf(name, others[0]);
    for (const server of ours) await this.states.remove(server);
    return ours.length ? 'destroyed' : 'gone';
  }

  async list(labels: Record<string, string>): Promise<VmInstance[]> {
    const own = { ...labels, [LABELS.project]: this.identity };
    const wanted = toUpcloudLabels(own);
    const servers = await this.servers(labelQuery(own));
    const details = await Promise.all(servers.map((s) => this.states.details(s.uuid)));
    // UpCloud filters already; checking the details again keeps a loose filter from leaking other servers.
    const matches = (d: ServerDetails | null): d is ServerDetails =>
      d !== null && wanted.every((w) => (d.labels?.label ?? []).some((l) => l.key === w.key && l.value === w.value));
    return details.filter(matches).map(toVmInstance);
  }

  async stop(name: string, signal?: AbortSignal): Promise<void> {
    await this.states.stop(await this.one(name, signal), 'soft', signal);
  }

  async start(name: string, signal?: AbortSignal): Promise<VmInstance> {
    return reachable(await this.states.start(await this.one(name, signal), this.startTimeoutMs, signal));
  }

  /** Relabels the server of this title with this project's identity (one only: which of two is a user's call). */
  async adopt(name: string): Promise<VmInstance> {
    const { ours, others } = await this.named(name);
    const adopted = ours[0] && (await this.states.details(ours[0].uuid));
    if (adopted) return toVmInstance(adopted);
    if (others.length === 0) throw adoptMissingError(name);
    if (others.length > 1) {
      throw new KamalDevError('provider', `${others.length} UpCloud servers are named ${name}: ${others.map((s) => s.uuid).join(', ')}`, {
        description: 'Delete or rename the ones that are not yours in the UpCloud Hub, then adopt again.',
      });
    }
    const labels = { ...labelsOf(others[0]), [LABELS.project]: this.identity };
    const body = { server: { labels: { label: toUpcloudLabels(labels) } } };
    return toVmInstance((await this.api.request<{ server: ServerDetails }>('PUT', `/server/${others[0].uuid}`, body)).server);
  }

  /**
   * Its firewall, once it runs: before that only sshd listens on a new server (Docker and the stack
   * come later, in bootstrap and composeUp), and a redeploy brings a change of public_ports along.
   */
  private async guarded(server: ServerDetails, request: ProvisionRequest, signal?: AbortSignal): Promise<ServerDetails> {
    await applyFirewall(this.api, server, firewallRules(UPCLOUD_SSH_PORT, request.openPorts ?? []), signal);
    return server;
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
    const template = chooseTemplate(templates.storages.storage, this.config.template);
    const os = templateOs(template);
    const body = createServerBody({
      name: request.name,
      zone: this.config.zone,
      plan: plan.name,
      templateUuid: template.uuid,
      // Docker installs while the server boots and we wait for SSH, rather than after.
      userData: os && bootInstallScript(os),
      storageSizeGb: plan.storage_size,
      storageTier: plan.storage_tier ?? 'maxiops',
      sshPublicKey: request.sshPublicKey,
      labels: {
        ...request.labels,
        [LABELS.managed]: 'true',
        [LABELS.project]: this.identity,
        ...(request.createdBy ? { [LABELS.createdBy]: request.createdBy } : {}),
      },
    });
    let retrying = false;
    // An attempt that failed with a 5xx may still have created the server: look before posting again.
    return this.api.withRetries(async () => {
      const earlier = retrying ? (await this.named(request.name, signal)).ours[0] : undefined;
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

  /** This project's server of this title; another project's (or one without identity) is an error naming it. */
  private async one(name: string, signal?: AbortSignal): Promise<ServerSummary>;
  private async one(name: string, signal: AbortSignal | undefined, missing: 'none is fine'): Promise<ServerSummary | undefined>;
  private async one(name: string, signal?: AbortSignal, missing?: 'none is fine'): Promise<ServerSummary | undefined> {
    const { ours, others } = await this.named(name, signal);
    if (ours[0]) return ours[0];
    if (others[0]) throw notOursOf(name, others[0]);
    if (missing) return undefined;
    throw new KamalDevError('provider', `no UpCloud server named ${name} managed by kamal-dev`, { description: 'Run kamal-dev list to see the VMs that exist.' });
  }

  /** Managed servers with this title: this project's, and everyone else's. */
  private async named(name: string, signal?: AbortSignal): Promise<{ ours: ServerSummary[]; others: ServerSummary[] }> {
    const titled = (await this.servers(labelQuery({ [LABELS.managed]: undefined }), signal)).filter((s) => s.title === name);
    const ours = titled.filter((s) => labelsOf(s)[LABELS.project] === this.identity);
    return { ours, others: titled.filter((s) => !ours.includes(s)) };
  }

  private async servers(query: string, signal?: AbortSignal): Promise<ServerSummary[]> {
    return (await this.api.request<{ servers: { server: ServerSummary[] } }>('GET', `/server${query}`, undefined, signal)).servers.server;
  }
}

function reachable(server: ServerDetails): VmInstance {
  if (!publicIpv4(server)) throw new KamalDevError('provider', `UpCloud server ${server.title} (${server.uuid}) has no public IPv4 address`);
  return toVmInstance(server);
}
