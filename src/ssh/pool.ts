import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { KamalDevError } from '../errors';
import { checkHostKey, hostKeyChangedError, hostPattern, keyLine, recordedHostKey } from './knownHosts';
import { SshSession } from './session';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
}

export interface SshPoolOptions {
  privateKeyPath: string;
  /**
   * The project's known_hosts, on the machine that holds the project: host keys recorded at the first
   * authenticated session, refused when they change. Absent on other workers: a host key then comes
   * pinned from workflow state (ConnectOptions.hostKey), or is trusted on first use in memory.
   */
  knownHostsFile?: string;
  /** How long to keep trying while a VM boots (connection refused/reset, handshake timeout). */
  connectTimeoutMs?: number;
}

/**
 * While a VM boots, an attempt fails at once (reset, or lost before the handshake) rather than
 * waiting out a timeout, so a short pause is cheap; a 1s pause left sshd unused for half a second
 * on average, and up to 2s with four VMs booting together.
 */
const RETRY_DELAY_MS = 250;
/** Each refused key is a failed login in the server's log (and, on newer OpenSSH, a penalty): try seldom. */
const KEY_REFUSED_RETRY_DELAY_MS = 2_000;

export interface ConnectOptions {
  signal?: AbortSignal;
  /** Epoch ms: stop retrying a refused or unreachable sshd then, if that is sooner than connectTimeoutMs. */
  deadline?: number;
  /**
   * Epoch ms until which a refused key is tried again too: a new cloud server accepts SSH before
   * cloud-init has installed the key. Without it a refused key is final at once.
   */
  keyRefusalsUntil?: number;
  /**
   * `type base64` of the host key this VM showed at its first authenticated session, as the workflow
   * recorded it: any other key is refused, whatever a known_hosts file says.
   */
  hostKey?: string;
  /**
   * Where hostKey comes from: `workflow` (default), this deploy's first authenticated session;
   * `source`, the source machine's .kamal/known_hosts (DeployPlan.ssh.hostKeys).
   */
  hostKeyOrigin?: HostKeyOrigin;
}

export type HostKeyOrigin = 'workflow' | 'source';

/** One SSH connection per endpoint (host:port:user), shared by every step that talks to that VM. */
export class SshPool {
  private readonly sessions = new Map<string, Promise<SshSession>>();

  constructor(private readonly options: SshPoolOptions) {}

  async session(endpoint: SshEndpoint, options: ConnectOptions = {}): Promise<SshSession> {
    const session = await this.shared(endpoint, options);
    if (options.hostKey === undefined || session.hostKey === options.hostKey) return session;
    // Connected before the pin was known (or to another key): a new connection is held to the pin.
    await this.drop(endpoint);
    return this.shared(endpoint, options);
  }

  private shared(endpoint: SshEndpoint, options: ConnectOptions): Promise<SshSession> {
    const key = `${endpoint.host}:${endpoint.port}:${endpoint.user}`;
    let pending = this.sessions.get(key);
    if (!pending) {
      const { knownHostsFile } = this.options;
      pending = this.connectWithRetries(endpoint, options).then(({ client, hostKey }) => {
        client.once('close', () => this.sessions.delete(key));
        // OpenSSH (the registry tunnel) reads the same known_hosts; without one, the ssh2 connection carries it.
        const openssh = knownHostsFile ? { ...endpoint, privateKeyPath: this.options.privateKeyPath, knownHostsFile } : undefined;
        return new SshSession(client, endpoint.user, openssh, hostKey);
      });
      pending.catch(() => this.sessions.delete(key));
      this.sessions.set(key, pending);
    }
    return pending;
  }

  /** Drops the endpoint's connection (e.g. the VM was stopped or destroyed). */
  async drop(endpoint: SshEndpoint): Promise<void> {
    const key = `${endpoint.host}:${endpoint.port}:${endpoint.user}`;
    const pending = this.sessions.get(key);
    this.sessions.delete(key);
    if (pending) (await pending.catch(() => undefined))?.close();
  }

  async closeAll(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.close()));
  }

  private async connectWithRetries(endpoint: SshEndpoint, { signal, deadline: until = Infinity, keyRefusalsUntil = 0, hostKey, hostKeyOrigin }: ConnectOptions): Promise<Connected> {
    const deadline = Math.min(Date.now() + (this.options.connectTimeoutMs ?? 60_000), until);
    for (;;) {
      try {
        return await this.connectOnce(endpoint, hostKey, hostKeyOrigin);
      } catch (error) {
        const keyRefusedInGrace = isKeyRefused(error) && Date.now() < keyRefusalsUntil;
        if ((error instanceof KamalDevError && !keyRefusedInGrace) || Date.now() > deadline || signal?.aborted) throw error;
        await new Promise((r) => setTimeout(r, keyRefusedInGrace ? KEY_REFUSED_RETRY_DELAY_MS : RETRY_DELAY_MS));
      }
    }
  }

  private connectOnce(endpoint: SshEndpoint, pinned?: string, origin?: HostKeyOrigin): Promise<Connected> {
    const { knownHostsFile } = this.options;
    const privateKey = readFileSync(this.options.privateKeyPath);
    return new Promise((resolve, reject) => {
      const client = new Client();
      let keyChanged = false;
      let settled = false;
      let shown: Buffer | undefined;
      client.once('ready', () => {
        settled = true;
        // Small packets (commands, registry requests through a forward) go out at once.
        client.setNoDelay(true);
        // Recorded only now: a new server may show other keys before cloud-init has set its own.
        if (knownHostsFile) checkHostKey(knownHostsFile, endpoint.host, endpoint.port, shown!);
        resolve({ client, hostKey: hostKeyOf(shown!) });
      });
      // ssh2 may emit several errors for one failure, and more after 'ready' (connection lost):
      // a listener stays attached so none of them is an unhandled 'error' event.
      client.on('error', (error: Error & { level?: string }) => {
        client.end();
        if (settled) return;
        settled = true;
        if (keyChanged) return reject(pinned ? pinnedKeyChangedError(endpoint, origin) : hostKeyChangedError(knownHostsFile!, endpoint.host, endpoint.port));
        if (error.level === 'client-authentication') {
          return reject(
            new KamalDevError('ssh', `${endpoint.user}@${endpoint.host}:${endpoint.port} refused the SSH key ${this.options.privateKeyPath}`, {
              type: KEY_REFUSED,
              description: `Authorise the public key ${this.options.privateKeyPath}.pub for ${endpoint.user} on that host.`,
              cause: error,
            }),
          );
        }
        reject(error);
      });
      client.connect({
        host: endpoint.host,
        port: endpoint.port,
        username: endpoint.user,
        privateKey,
        readyTimeout: 20_000,
        keepaliveInterval: 10_000,
        keepaliveCountMax: 6,
        hostVerifier: (key: Buffer) => {
          shown = key;
          if (pinned) keyChanged = hostKeyOf(key) !== pinned;
          else if (knownHostsFile) keyChanged = recordedHostKey(knownHostsFile, endpoint.host, endpoint.port, key) === 'changed';
          return !keyChanged;
        },
      });
    });
  }
}

interface Connected {
  client: Client;
  /** `type base64` of the key the host showed. */
  hostKey: string;
}

/** `type base64`: a known_hosts line without its host pattern. */
export function hostKeyOf(key: Buffer): string {
  return keyLine('', key).trimStart();
}

function pinnedKeyChangedError(endpoint: SshEndpoint, origin: HostKeyOrigin = 'workflow'): KamalDevError {
  const pattern = hostPattern(endpoint.host, endpoint.port);
  if (origin === 'source') {
    return new KamalDevError('ssh', `the SSH host key of ${pattern} does not match the one recorded in the source machine's .kamal/known_hosts`, {
      type: 'SshHostKeyChanged',
      description: `Someone may be intercepting the connection, or the machine was rebuilt. If you know it was rebuilt, remove its line (${pattern}) from .kamal/known_hosts on the machine that holds the project and run the command again.`,
    });
  }
  return new KamalDevError('ssh', `the SSH host key of ${pattern} is not the one it showed at this deploy's first authenticated session`, {
    type: 'SshHostKeyChanged',
    description: 'Someone may be intercepting the connection, or the machine was rebuilt while the deploy ran. Cancel the deploy and run it again if you know it was rebuilt.',
  });
}

const KEY_REFUSED = 'SshAuthFailed';

export function isKeyRefused(error: unknown): error is KamalDevError {
  return error instanceof KamalDevError && error.type === KEY_REFUSED;
}
