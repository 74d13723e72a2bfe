import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../docker/runner';
import { KamalDevError } from '../errors';
import type { DeployPlan } from '../spec/plan';

/**
 * Which private key talks to a deployment's VMs. The configured key when it exists. Otherwise, for
 * local VMs (provider `docker`) only, a project key under .kamal/ssh/ (made on first use, never in
 * ~/.ssh); for real machines a missing key is the user's to fix, so it is an error.
 */
export function projectKeyPath(projectDir: string): string {
  return join(projectDir, '.kamal', 'ssh', 'id_ed25519');
}

export function sshKeyPath(plan: DeployPlan): string {
  if (existsSync(plan.ssh.keyPath)) return plan.ssh.keyPath;
  if (plan.provider.type === 'docker') return projectKeyPath(plan.projectDir);
  throw missingKeyError(plan.ssh.keyPath);
}

/** Keys being made: the N provisions of a first deploy all ask at once, and one ssh-keygen must serve them. */
const making = new Map<string, Promise<void>>();

/** The key pair exists afterwards; returns the private key path and the public key line. */
export async function ensureSshKey(plan: DeployPlan): Promise<{ keyPath: string; publicKey: string }> {
  const keyPath = sshKeyPath(plan);
  let pending = making.get(keyPath);
  if (!pending && !existsSync(keyPath)) {
    mkdirSync(join(plan.projectDir, '.kamal', 'ssh'), { recursive: true, mode: 0o700 });
    pending = makeKeyPair(keyPath, `kamal-dev ${plan.service}`);
    making.set(keyPath, pending);
    void pending.finally(() => making.delete(keyPath)).catch(() => undefined);
  }
  await pending;
  const publicPath = `${keyPath}.pub`;
  if (!existsSync(publicPath)) throw missingKeyError(publicPath);
  return { keyPath, publicKey: readFileSync(publicPath, 'utf8').trim() };
}

/**
 * ssh-keygen writes the private key before the public one, so a reader that saw the private key
 * could read an empty .pub (and a VM got an empty authorized key). Made under temporary names and
 * renamed public key first: once the private key exists, the pair is whole, for every process.
 */
async function makeKeyPair(keyPath: string, comment: string): Promise<void> {
  const tmp = `${keyPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', tmp]);
    renameSync(`${tmp}.pub`, `${keyPath}.pub`);
    renameSync(tmp, keyPath);
  } finally {
    rmSync(tmp, { force: true });
    rmSync(`${tmp}.pub`, { force: true });
  }
}

function missingKeyError(path: string): KamalDevError {
  return new KamalDevError('config', `SSH key ${path} does not exist`, {
    key: 'ssh/key',
    description: `Create it (ssh-keygen -t ed25519 -f ${path}) or point ssh.key in config/dev.yml at an existing key; its .pub must sit next to it.`,
  });
}
