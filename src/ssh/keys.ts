import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../docker/runner';
import { KamalDevError } from '../errors';
import { expandHome } from '../spec/config';
import type { DeployPlan } from '../spec/plan';
import { holdsProject, workerName } from '../state/source';

/**
 * Which private key talks to a deployment's VMs: ssh.key_path of config/dev.yml, resolved on this
 * worker's own filesystem (`~` is this worker's home), so a worker on another machine uses the key it
 * was given there. Otherwise, for local VMs (provider `docker`) on the machine that holds the project
 * only, a project key under .kamal/ssh/ (made on first use, never in ~/.ssh); anywhere else a
 * missing key is an error naming the path and the worker, never a new key (two machines would disagree).
 */
export function projectKeyPath(projectDir: string): string {
  return join(projectDir, '.kamal', 'ssh', 'id_ed25519');
}

/** On the machine that holds the project (the CLI's own commands: ssh, logs, forward, ssh-config). */
export function sshKeyPath(plan: DeployPlan): string {
  if (existsSync(plan.ssh.keyPath)) return plan.ssh.keyPath;
  if (plan.provider.type === 'docker') return projectKeyPath(plan.projectDir);
  throw missingKeyError(plan.ssh.keyPath, plan);
}

/** In an activity, on whichever worker runs it. */
export function workerSshKeyPath(plan: DeployPlan): string {
  const configured = workerKeyPath(plan);
  if (existsSync(configured)) return configured;
  if (plan.provider.type === 'docker' && holdsProject(plan)) return projectKeyPath(plan.projectDir);
  throw missingKeyError(configured, plan);
}

/** ssh.key_path as this worker reads it: the source's resolution where the project is, else expanded here. */
export function workerKeyPath(plan: DeployPlan, env: NodeJS.ProcessEnv = process.env): string {
  const setting = plan.ssh.keyPathSetting;
  if (setting === undefined || holdsProject(plan)) return plan.ssh.keyPath;
  return expandHome(setting, process.cwd(), env);
}

/** Keys being made: the N provisions of a first deploy all ask at once, and one ssh-keygen must serve them. */
const making = new Map<string, Promise<void>>();

/** The key pair exists afterwards; returns the private key path and the public key line. */
export async function ensureSshKey(plan: DeployPlan): Promise<{ keyPath: string; publicKey: string }> {
  const keyPath = workerSshKeyPath(plan);
  let pending = making.get(keyPath);
  if (!pending && !existsSync(keyPath)) {
    mkdirSync(join(plan.projectDir, '.kamal', 'ssh'), { recursive: true, mode: 0o700 });
    pending = makeKeyPair(keyPath, `kamal-dev ${plan.service}`);
    making.set(keyPath, pending);
    void pending.finally(() => making.delete(keyPath)).catch(() => undefined);
  }
  await pending;
  const publicPath = `${keyPath}.pub`;
  if (!existsSync(publicPath)) throw missingKeyError(publicPath, plan);
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

function missingKeyError(path: string, plan: DeployPlan): KamalDevError {
  const elsewhere = holdsProject(plan)
    ? ''
    : ` This worker does not hold the project folder: give it the deployment's key at that path (ssh.key_path is read on each worker, \`~\` being the worker's home).`;
  return new KamalDevError('config', `SSH key ${path} does not exist on worker ${workerName()}`, {
    key: 'ssh/key_path',
    type: 'SshKeyMissing',
    description: `Create it (ssh-keygen -t ed25519 -f ${path}) or point ssh.key_path in config/dev.yml at an existing key; its .pub must sit next to it.${elsewhere}`,
  });
}
