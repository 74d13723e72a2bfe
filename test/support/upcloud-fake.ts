import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { parseFirewallRules, StoredRule } from './upcloud-fake-firewall';

/**
 * A small stand-in for UpCloud API 1.3 on 127.0.0.1: the endpoints the upcloud provider uses, servers
 * kept in memory, and faults on demand. State rules follow the real API: stop/start/delete answer
 * 409 SERVER_STATE_ILLEGAL when the server is not in a state that allows them; one liberty: a hard
 * stop also ends `maintenance` (how a "never starts" server is stopped here).
 */
export interface FakeServer {
  uuid: string;
  title: string;
  hostname: string;
  zone: string;
  plan: string;
  state: 'started' | 'stopped' | 'maintenance';
  labels: { key: string; value: string }[];
  ip: string;
  /** The POST /server body as received. */
  created: Record<string, unknown>;
  /** The script (or URL) cloud-init runs on first boot, when the create gave one. */
  userData?: string;
  /** GETs left in `maintenance` before `started`. */
  pollsLeft: number;
  firewall: 'on' | 'off';
  firewallRules: StoredRule[];
}

export interface Fault {
  status: number;
  /** How many matching requests get this answer. */
  times: number;
  method?: string;
  /** Matches when the path (with query) contains it. */
  path?: string;
  retryAfter?: string;
  /** Do the work, then answer with the fault anyway (a create that succeeded behind a 502). */
  afterWork?: boolean;
  /** Answer only after this long (a request that times out on the client's side). */
  delayMs?: number;
}

const ZONES = ['fi-hel1', 'fi-hel2', 'de-fra1', 'uk-lon1', 'nl-ams1'];
const PLANS = [
  { name: '1xCPU-1GB', storage_size: 25, storage_tier: 'maxiops' },
  { name: 'DEV-1xCPU-1GB-10GB', storage_size: 10, storage_tier: 'standard' },
];
export const TEMPLATES = [
  { uuid: '01000000-0000-4000-8000-000030200200', title: 'Ubuntu Server 20.04 LTS (Focal Fossa)', type: 'template', access: 'public' },
  { uuid: '01000000-0000-4000-8000-000030240200', title: 'Ubuntu Server 24.04 LTS (Noble Numbat)', type: 'template', access: 'public' },
  { uuid: '01000000-0000-4000-8000-000030220200', title: 'Ubuntu Server 22.04 LTS (Jammy Jellyfish)', type: 'template', access: 'public' },
  { uuid: '01000000-0000-4000-8000-000020070100', title: 'Debian GNU/Linux 12 (Bookworm)', type: 'template', access: 'public' },
];

/** Real machines behind the fake's servers: a lab VM whose sshd answers on the server's public address. */
export interface FakeMachines {
  /** Starts (in the background) the machine of a new server; returns its public IPv4, a 127.x address. */
  create(server: FakeServer): string;
  release(server: FakeServer): Promise<void>;
}

export class UpcloudFake {
  readonly servers = new Map<string, FakeServer>();
  readonly requests: string[] = [];
  readonly faults: Fault[] = [];
  /** GETs a new or started-again server spends in `maintenance`. */
  startPolls = 0;
  neverStart = false;
  /** Stop requests a server accepts and then ignores, still running (a shutdown that hangs). */
  stopsIgnored = 0;
  /**
   * Every new server's public IPv4; default 203.0.113.x (a documentation range). A test that goes on
   * to SSH sets 127.0.0.1, so the connection is refused here and no packet leaves the machine.
   */
  publicIp?: string;
  machines?: FakeMachines;
  private nextIp = 10;

  private constructor(
    private readonly http: Server,
    readonly url: string,
    readonly username: string,
    readonly password: string,
  ) {}

  static async start(username = 'fake-api-user', password = 'fake-api-p4ss'): Promise<UpcloudFake> {
    let fake: UpcloudFake | undefined;
    const http = createServer((req, res) =>
      fake?.handle(req, res).catch((error: Error) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { error_code: 'FAKE_BROKE', error_message: error.message } }));
      }),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    fake = new UpcloudFake(http, `http://127.0.0.1:${port}/1.3`, username, password);
    return fake;
  }

  close(): Promise<void> {
    this.http.closeAllConnections();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  fail(fault: Fault): void {
    this.faults.push(fault);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname.replace(/^\/1\.3/, '').replace(/\/$/, '');
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${path}${url.search}`);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const expected = `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
    const fault = this.faults.find((f) => f.times > 0 && (!f.method || f.method === method) && (!f.path || `${path}${url.search}`.includes(f.path)));
    const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, body === undefined ? headers : { ...headers, 'content-type': 'application/json' });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const injected = async (f: Fault) => {
      f.times--;
      if (f.delayMs) await new Promise((resolve) => setTimeout(resolve, f.delayMs));
      if (res.destroyed) return;
      answer(f.status, { error: { error_code: 'FAKE_FAULT', error_message: `injected ${f.status}` } }, f.retryAfter ? { 'retry-after': f.retryAfter } : {});
    };
    const send = fault?.afterWork ? () => injected(fault) : answer;
    const error = (status: number, code: string, message: string) => send(status, { error: { error_code: code, error_message: message } });

    if (req.headers.authorization !== expected) return answer(401, { error: { error_code: 'AUTHENTICATION_FAILED', error_message: 'Authentication failed using the given username and password.' } });
    if (fault && !fault.afterWork) return injected(fault);

    const [, resource, uuid, action] = path.split('/');
    if (method === 'GET' && path === '/account') return send(200, { account: { username: this.username, credits: 1000 } });
    if (method === 'GET' && path === '/storage/template') return send(200, { storages: { storage: TEMPLATES } });
    if (method === 'GET' && path === '/plan') return send(200, { plans: { plan: PLANS } });
    if (resource !== 'server') return error(404, 'NOT_FOUND', `no such endpoint ${path}`);
    if (method === 'GET' && !uuid) return send(200, { servers: { server: this.filter(url.searchParams.getAll('label')).map(summary) } });
    if (method === 'POST' && !uuid) return this.create(JSON.parse(Buffer.concat(chunks).toString()), send, error);

    const server = this.servers.get(uuid);
    if (!server) return error(404, 'SERVER_NOT_FOUND', `The server ${uuid} does not exist.`);
    const illegal = () => error(409, 'SERVER_STATE_ILLEGAL', `The server is in state ${server.state}.`);
    if (method === 'GET' && !action) {
      if (server.state === 'maintenance' && !this.neverStart && server.pollsLeft-- <= 0) server.state = 'started';
      return send(200, { server: details(server) });
    }
    if (method === 'POST' && action === 'stop') {
      if (server.state === 'stopped') return illegal();
      if (this.stopsIgnored-- > 0) return send(200, { server: details(server) });
      server.state = 'stopped';
      return send(200, { server: details(server) });
    }
    if (method === 'POST' && action === 'start') {
      if (server.state !== 'stopped') return illegal();
      Object.assign(server, { state: 'maintenance', pollsLeft: this.startPolls });
      return send(200, { server: details(server) });
    }
    if (action === 'firewall_rule' && (method === 'GET' || method === 'PUT')) {
      if (method === 'GET') return send(200, { firewall_rules: { firewall_rule: server.firewallRules } });
      const parsed = parseFirewallRules(JSON.parse(Buffer.concat(chunks).toString()));
      if ('error' in parsed) return error(400, 'FIREWALL_RULE_INVALID', parsed.error);
      server.firewallRules = parsed.rules;
      return send(200, { firewall_rules: { firewall_rule: parsed.rules } });
    }
    if (method === 'PUT' && !action) {
      // Modify server: of its fields only labels and firewall matter here; a label list given replaces the old one.
      const changes = JSON.parse(Buffer.concat(chunks).toString()).server ?? {};
      if (changes.firewall !== undefined && !['on', 'off'].includes(changes.firewall)) return error(400, 'FIREWALL_INVALID', 'firewall must be on or off');
      if (changes.firewall) server.firewall = changes.firewall;
      if (changes.labels) server.labels = changes.labels.label ?? [];
      return send(202, { server: details(server) });
    }
    if (method === 'DELETE' && !action) {
      if (server.state !== 'stopped') return illegal();
      if (url.searchParams.get('storages') !== '1') return error(400, 'FAKE_EXPECTS_STORAGES', 'this fake expects storages=1');
      this.servers.delete(uuid);
      await this.machines?.release(server);
      return send(204);
    }
    return error(404, 'NOT_FOUND', `no such endpoint ${method} ${path}`);
  }

  private create(
    body: { server: Record<string, any> },
    send: (status: number, body: unknown) => void,
    error: (status: number, code: string, message: string) => void,
  ): void {
    const s = body.server;
    if (!ZONES.includes(s.zone)) return error(400, 'ZONE_INVALID', 'The zone is invalid.');
    if (!PLANS.some((p) => p.name === s.plan)) return error(400, 'PLAN_INVALID', 'The plan is invalid.');
    if (!TEMPLATES.some((t) => t.uuid === s.storage_devices?.storage_device?.[0]?.storage)) return error(400, 'STORAGE_INVALID', 'The storage is invalid.');
    if (!s.title || !s.hostname) return error(400, 'TITLE_MISSING', 'The title and hostname are required.');
    if (s.firewall !== undefined && !['on', 'off'].includes(s.firewall)) return error(400, 'FIREWALL_INVALID', 'firewall must be on or off');
    if (s.user_data !== undefined && (typeof s.user_data !== 'string' || s.user_data === '')) return error(400, 'USER_DATA_INVALID', 'The user_data is invalid.');
    // Cloud-init templates read user_data from the metadata service only.
    if (s.user_data !== undefined && s.metadata !== 'yes') return error(400, 'METADATA_DISABLED', 'user_data needs metadata: yes.');
    const server: FakeServer = {
      uuid: randomUUID(),
      title: s.title,
      hostname: s.hostname,
      zone: s.zone,
      plan: s.plan,
      state: 'maintenance',
      labels: s.labels?.label ?? [],
      ip: this.publicIp ?? `203.0.113.${this.nextIp++}`,
      created: s,
      userData: s.user_data,
      pollsLeft: this.startPolls,
      firewall: s.firewall ?? 'off',
      firewallRules: [],
    };
    if (this.machines) server.ip = this.machines.create(server);
    this.servers.set(server.uuid, server);
    send(202, { server: details(server) });
  }

  private filter(labels: string[]): FakeServer[] {
    return [...this.servers.values()].filter((server) =>
      labels.every((wanted) => server.labels.some((l) => (wanted.includes('=') ? `${l.key}=${l.value}` === wanted : l.key === wanted))),
    );
  }
}

function summary(s: FakeServer) {
  return { uuid: s.uuid, title: s.title, hostname: s.hostname, zone: s.zone, plan: s.plan, state: s.state, labels: { label: s.labels } };
}

function details(s: FakeServer) {
  return {
    ...summary(s),
    firewall: s.firewall,
    ip_addresses: {
      ip_address: [
        { access: 'utility', family: 'IPv4', address: '10.1.0.5' },
        { access: 'public', family: 'IPv4', address: s.ip },
      ],
    },
  };
}
