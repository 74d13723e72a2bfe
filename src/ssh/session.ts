import { connect as netConnect } from 'node:net';
import { Readable } from 'node:stream';
import { posix } from 'node:path';
import { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { CommandFailedError } from '../docker/runner';
import { redact } from '../spec/redact';
import { opensshInstalled, opensshRemoteForward, OpensshTarget } from './opensshForward';
import { remoteCommandLine } from './quote';

export interface RemoteExecOptions {
  /** Bytes written to the command's stdin (passwords, scripts); a stream is piped. */
  input?: string | Buffer | Readable;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Values to hide from errors and streamed lines. */
  secrets?: string[];
  /** Run as root through sudo even when the SSH user is not root. */
  root?: boolean;
}

export interface RemoteResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const FORWARD_BIND_ATTEMPTS = 12;
const PORT_TAKEN = /remote port forwarding failed|Unable to bind/;

/** A remote forward and how many steps use it now. */
type SharedForward = { users: number; opened: Promise<() => Promise<void>> };

/** One SSH connection to one VM: commands as argv, uploads, remote port forwards. */
export class SshSession {
  private sftpPromise?: Promise<SFTPWrapper>;
  /** Open remote forwards by VM port, with how many steps use each: steps at once share one. */
  private readonly forwards = new Map<number, SharedForward>();

  constructor(
    private readonly client: Client,
    readonly user: string,
    /** Lets remote forwards go through OpenSSH, when it is installed, instead of this connection. */
    private readonly openssh?: OpensshTarget,
    /** `type base64` of the key the host showed when this connection was authenticated. */
    readonly hostKey?: string,
  ) {}

  /** Runs argv; resolves with the exit status whatever it is. */
  exec(argv: string[], options: RemoteExecOptions = {}): Promise<RemoteResult> {
    const secrets = options.secrets ?? [];
    const command = remoteCommandLine(argv, { sudo: options.root === true && this.user !== 'root' });
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) return reject(error);
        const out = collectLines(channel, 'stdout', options.onLine, secrets);
        const err = collectLines(channel.stderr, 'stderr', options.onLine, secrets);
        let exitCode = -1;
        channel.on('exit', (code: number | null) => (exitCode = code ?? -1));
        channel.on('close', () => {
          out.flush();
          err.flush();
          resolve({ stdout: out.text(), stderr: err.text(), exitCode });
        });
        feed(channel, options.input);
      });
    });
  }

  /** Runs argv; rejects with CommandFailedError (redacted) on a non-zero exit. */
  async run(argv: string[], options: RemoteExecOptions = {}): Promise<RemoteResult> {
    const result = await this.exec(argv, options);
    if (result.exitCode === 0) return result;
    const secrets = options.secrets ?? [];
    throw new CommandFailedError(
      argv.map((a) => redact(a, secrets)),
      result.exitCode,
      redact(result.stdout, secrets),
      redact(result.stderr, secrets),
    );
  }

  /** Writes a file atomically: to a temporary name next to it, then renamed over the target. */
  async upload(target: string, content: Buffer | string, mode = 0o644): Promise<void> {
    const sftp = await this.sftp();
    const tmp = posix.join(posix.dirname(target), `.${posix.basename(target)}.${process.pid}.${Date.now()}.tmp`);
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(tmp, content, { mode }, (error) => (error ? reject(error) : resolve())),
    );
    // writeFile's mode applies only when it creates the file; the umask may have narrowed it.
    await new Promise<void>((resolve, reject) => sftp.chmod(tmp, mode, (error) => (error ? reject(error) : resolve())));
    await new Promise<void>((resolve, reject) =>
      sftp.ext_openssh_rename(tmp, target, (error) => (error ? reject(error) : resolve())),
    );
  }

  /**
   * Makes the VM's 127.0.0.1:port reach this machine's 127.0.0.1:port until the returned function
   * is called (the Kamal local-registry tunnel). OpenSSH's `ssh -R` when installed: its C crypto and
   * its own process keep a pull of hundreds of MB off this worker's event loop. ssh2 otherwise, or
   * with KAMAL_DEV_TUNNEL=ssh2.
   */
  async forwardRemotePort(port: number): Promise<() => Promise<void>> {
    // Steps running at once on this VM (the seed's pull beside the images') share the forward: the VM
    // has one such port, and a second forward could not bind it while the first lives.
    const shared = this.forwards.get(port) ?? this.openSharedForward(port);
    shared.users += 1;
    const close = await shared.opened;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      shared.users -= 1;
      if (shared.users > 0) return;
      if (this.forwards.get(port) === shared) this.forwards.delete(port);
      await close();
    };
  }

  /** A new entry of `forwards`; one that fails to open is dropped again, whoever counted on it. */
  private openSharedForward(port: number): SharedForward {
    const entry = { users: 0, opened: this.openRemoteForward(port) };
    entry.opened.catch(() => this.forwards.get(port) === entry && this.forwards.delete(port));
    this.forwards.set(port, entry);
    return entry;
  }

  private async openRemoteForward(port: number): Promise<() => Promise<void>> {
    const open = () =>
      this.openssh && process.env.KAMAL_DEV_TUNNEL !== 'ssh2' && opensshInstalled() ? opensshRemoteForward(this.openssh, port) : this.forwardRemotePortOverSsh2(port);
    // sshd lets go of a closed forward's port a moment after the connection that held it ends.
    for (let attempt = 1; ; attempt++) {
      try {
        return await open();
      } catch (error) {
        if (attempt >= FORWARD_BIND_ATTEMPTS || !PORT_TAKEN.test(`${(error as Error).message} ${(error as { description?: string }).description ?? ''}`)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  /** The same tunnel carried by this ssh2 connection. */
  async forwardRemotePortOverSsh2(port: number): Promise<() => Promise<void>> {
    const onConnection = (info: { destPort: number }, accept: () => ClientChannel, reject: () => void) => {
      if (info.destPort !== port) return;
      const local = netConnect(port, '127.0.0.1');
      // Registry clients send many small requests (HEAD, GET per blob): Nagle would hold each one back.
      local.setNoDelay(true);
      local.once('error', () => reject());
      local.once('connect', () => {
        const channel = accept();
        channel.pipe(local).pipe(channel);
        channel.on('error', () => local.destroy());
      });
    };
    this.client.on('tcp connection', onConnection);
    await new Promise<void>((resolve, reject) =>
      this.client.forwardIn('127.0.0.1', port, (error) => (error ? reject(error) : resolve())),
    ).catch((error) => {
      this.client.off('tcp connection', onConnection);
      throw error;
    });
    return () =>
      new Promise<void>((resolve) => {
        this.client.off('tcp connection', onConnection);
        this.client.unforwardIn('127.0.0.1', port, () => resolve());
      });
  }

  /** A TCP connection made from the VM to host:port (e.g. a container's address there), carried over this connection. */
  openTcp(host: string, port: number): Promise<ClientChannel> {
    return new Promise((resolve, reject) =>
      this.client.forwardOut('127.0.0.1', 0, host, port, (error, channel) => (error ? reject(error) : resolve(channel))),
    );
  }

  close(): void {
    this.client.end();
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpPromise ??= new Promise((resolve, reject) =>
      this.client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))),
    );
    this.sftpPromise.catch(() => (this.sftpPromise = undefined));
    return this.sftpPromise;
  }
}

function feed(channel: ClientChannel, input: RemoteExecOptions['input']): void {
  if (input instanceof Readable) {
    input.on('error', () => channel.close());
    input.pipe(channel);
  } else {
    if (input !== undefined) channel.write(input);
    channel.end();
  }
}

function collectLines(
  stream: NodeJS.ReadableStream,
  name: 'stdout' | 'stderr',
  onLine: RemoteExecOptions['onLine'],
  secrets: string[],
) {
  const chunks: Buffer[] = [];
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    if (!onLine) return;
    const lines = (partial + chunk.toString()).split(/\r?\n|\r/);
    partial = lines.pop() ?? '';
    for (const line of lines) onLine(redact(line, secrets), name);
  });
  return {
    flush: () => {
      if (onLine && partial) onLine(redact(partial, secrets), name);
      partial = '';
    },
    text: () => Buffer.concat(chunks).toString(),
  };
}
