import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KamalDevError } from '../errors';
import { remoteCommandLine } from './quote';

/** Where and as whom OpenSSH logs in: the pool's endpoint with its key and pinned host keys. */
export interface OpensshTarget {
  host: string;
  port: number;
  user: string;
  privateKeyPath: string;
  knownHostsFile: string;
}

const READY = 'kamal-dev-forward-ready';
const READY_TIMEOUT_MS = 30_000;

/**
 * `ssh -R` for one port. sshd binds the forward before it opens the session (the client asks in that
 * order), so the remote command's READY line means the VM's port is listening; a refused forward
 * exits first (ExitOnForwardFailure). The remote `cat` ends with our stdin, so the session cannot
 * outlive this process. `-F none`: no user config changes what runs.
 */
export function remoteForwardArgv(target: OpensshTarget, port: number): string[] {
  return [
    'ssh', '-F', 'none', '-T',
    '-i', target.privateKeyPath,
    '-p', String(target.port),
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', `UserKnownHostsFile=${target.knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'ExitOnForwardFailure=yes',
    '-o', 'ServerAliveInterval=10',
    '-o', 'ServerAliveCountMax=6',
    '-o', 'LogLevel=ERROR',
    '-R', `127.0.0.1:${port}:127.0.0.1:${port}`,
    `${target.user}@${target.host}`,
    '--', remoteCommandLine(['sh', '-c', `echo ${READY}; exec cat >/dev/null`]),
  ];
}

/** Opens the forward; resolves once the VM's port listens, with the function that closes it. */
export function opensshRemoteForward(target: OpensshTarget, port: number): Promise<() => Promise<void>> {
  const [command, ...args] = remoteForwardArgv(target, port);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const failed = (detail: string) => {
      clearTimeout(timer);
      void close();
      reject(
        new KamalDevError('ssh', `ssh -R ${port} to ${target.user}@${target.host}:${target.port} failed: ${detail}`, {
          retry: 'transient',
          description: `${stderr.trim() || 'OpenSSH said nothing.'}\nSet KAMAL_DEV_TUNNEL=ssh2 to use the built-in SSH client instead.`,
        }),
      );
    };
    const timer = setTimeout(() => failed(`no answer within ${READY_TIMEOUT_MS / 1000}s`), READY_TIMEOUT_MS);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!stdout.includes(READY)) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data').resume();
      resolve(close);
    });
    child.once('error', (error) => failed(error.message));
    void exited.then((code) => failed(`exited with ${code}`));
  });
}

let installed: boolean | undefined;

/** Whether an `ssh` executable is on PATH (looked up once per process). */
export function opensshInstalled(): boolean {
  installed ??= (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, 'ssh'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return installed;
}
