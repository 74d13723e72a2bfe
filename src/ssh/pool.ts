import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { KamalDevError } from '../errors';
import { checkHostKey, hostKeyChangedError } from './knownHosts';
import { SshSession } from './session';

export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
}

export interface SshPoolOptions {
  privateKeyPath: string;
  knownHostsFile: string;
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
}

/** One SSH connection per endpoint (host:port:user), shared by every step that talks to that VM. */
export class SshPool {
  private readonly sessions = new Map<string, Promise<SshSession>>();

  constructor(private readonly options: SshPoolOptions) {}

  session(endpoint: SshEndpoint, options: ConnectOptions = {}): Promise<SshSession> {
    const key = `${endpoint.host}:${endpoint.port}:${endpoint.user}`;
    let pending = this.sessions.get(key);
    if (!pending) {
      pending = this.connectWithRetries(endpoint, options).then((client) => {
        client.once('close', () => this.sessions.delete(key));
        return new SshSession(client, endpoint.user, { ...endpoint, privateKeyPath: this.options.privateKeyPath, knownHostsFile: this.options.knownHostsFile });
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

  private async connectWithRetries(endpoint: SshEndpoint, { signal, deadline: until = Infinity, keyRefusalsUntil = 0 }: ConnectOptions): Promise<Client> {
    const deadline = Math.min(Date.now() + (this.options.connectTimeoutMs ?? 60_000), until);
    for (;;) {
      try {
        return await this.connectOnce(endpoint);
      } catch (error) {
        const keyRefusedInGrace = isKeyRefused(error) && Date.now() < keyRefusalsUntil;
        if ((error instanceof KamalDevError && !keyRefusedInGrace) || Date.now() > deadline || signal?.aborted) throw error;
        await new Promise((r) => setTimeout(r, keyRefusedInGrace ? KEY_REFUSED_RETRY_DELAY_MS : RETRY_DELAY_MS));
      }
    }
  }

  private connectOnce(endpoint: SshEndpoint): Promise<Client> {
    const { knownHostsFile } = this.options;
    const privateKey = readFileSync(this.options.privateKeyPath);
    return new Promise((resolve, reject) => {
      const client = new Client();
      let keyChanged = false;
      let settled = false;
      client.once('ready', () => {
        settled = true;
        // Small packets (commands, registry requests through a forward) go out at once.
        client.setNoDelay(true);
        resolve(client);
      });
      // ssh2 may emit several errors for one failure, and more after 'ready' (connection lost):
      // a listener stays attached so none of them is an unhandled 'error' event.
      client.on('error', (error: Error & { level?: string }) => {
        client.end();
        if (settled) return;
        settled = true;
        if (keyChanged) return reject(hostKeyChangedError(knownHostsFile, endpoint.host, endpoint.port));
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
          keyChanged = checkHostKey(knownHostsFile, endpoint.host, endpoint.port, key) === 'changed';
          return !keyChanged;
        },
      });
    });
  }
}

const KEY_REFUSED = 'SshAuthFailed';

export function isKeyRefused(error: unknown): error is KamalDevError {
  return error instanceof KamalDevError && error.type === KEY_REFUSED;
}
