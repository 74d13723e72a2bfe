import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { KamalDevError } from '../errors';
import type { DeployPlan } from '../spec/plan';

/** The project's pinned host keys (ssh2 and OpenSSH both read it). */
export function knownHostsFile(plan: Pick<DeployPlan, 'projectDir'>): string {
  return join(plan.projectDir, '.kamal', 'known_hosts');
}

/**
 * Host keys trusted on first use, kept in an OpenSSH known_hosts file (so `ssh -o
 * UserKnownHostsFile=...` agrees with us). Entries are `[host]:port keytype base64`.
 */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type is the first length-prefixed string of the SSH wire-format public key. */
export function keyLine(pattern: string, key: Buffer): string {
  const typeLength = key.readUInt32BE(0);
  const type = key.subarray(4, 4 + typeLength).toString('latin1');
  return `${pattern} ${type} ${key.toString('base64')}`;
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  } catch {
    return [];
  }
}

export type HostKeyDecision = 'known' | 'recorded' | 'changed';

/** What the file says of this key, recording nothing: `recorded` means the host is not in it yet. */
export function recordedHostKey(file: string, host: string, port: number, key: Buffer): HostKeyDecision {
  const pattern = hostPattern(host, port);
  const recorded = readLines(file).filter((l) => l.split(' ')[0] === pattern);
  if (recorded.includes(keyLine(pattern, key))) return 'known';
  return recorded.length > 0 ? 'changed' : 'recorded';
}

/** Accepts a known key, records an unknown host, refuses a host whose key differs from the record. */
export function checkHostKey(file: string, host: string, port: number, key: Buffer): HostKeyDecision {
  const decision = recordedHostKey(file, host, port, key);
  if (decision !== 'recorded') return decision;
  const line = keyLine(hostPattern(host, port), key);
  mkdirSync(dirname(file), { recursive: true });
  closeSync(openSync(file, 'a', 0o600));
  writeFileSync(file, line + '\n', { flag: 'a' });
  return 'recorded';
}

/** The file's first key of each host pattern, as `type base64` (what DeployPlan.ssh.hostKeys carries). */
export function recordedHostKeys(file: string): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const line of readLines(file)) {
    const [pattern, ...key] = line.split(' ');
    if (key.length >= 2 && !(pattern in keys)) keys[pattern] = key.slice(0, 2).join(' ');
  }
  return keys;
}

/** Records a host key (`type base64`) another worker authenticated against, unless the host has a line already. */
export function addHostKey(file: string, host: string, port: number, hostKey: string): void {
  const pattern = hostPattern(host, port);
  if (readLines(file).some((l) => l.split(' ')[0] === pattern)) return;
  mkdirSync(dirname(file), { recursive: true });
  closeSync(openSync(file, 'a', 0o600));
  writeFileSync(file, `${pattern} ${hostKey}\n`, { flag: 'a' });
}

/** A VM that was destroyed takes its key with it; a new VM on the same endpoint is a new host. */
export function forgetHost(file: string, host: string, port: number): void {
  const pattern = hostPattern(host, port);
  const lines = readLines(file);
  const kept = lines.filter((l) => l.split(' ')[0] !== pattern);
  if (kept.length === lines.length) return;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, kept.map((l) => l + '\n').join(''), { mode: 0o600 });
  renameSync(tmp, file);
}

export function hostKeyChangedError(file: string, host: string, port: number): KamalDevError {
  return new KamalDevError('ssh', `the SSH host key of ${hostPattern(host, port)} does not match the one recorded in ${file}`, {
    type: 'SshHostKeyChanged',
    file,
    description:
      'Someone may be intercepting the connection, or the machine was rebuilt. If you know it was rebuilt, ' +
      `remove its line from ${file} and run the command again.`,
  });
}
