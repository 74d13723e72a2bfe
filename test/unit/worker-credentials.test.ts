import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerSecretResolver } from '../../src/activities/workerSecrets';
import type { DeployPlan } from '../../src/spec/plan';
import { ensureSshKey, workerKeyPath, workerSshKeyPath } from '../../src/ssh/keys';
import { projectIdentity } from '../../src/state/identity';

/** A plan as a worker on another machine gets it: the source's folder does not exist here. */
function planFrom(projectDir: string, overrides: Partial<DeployPlan> = {}): DeployPlan {
  return {
    projectDir,
    identity: 'source-identity',
    secretsFile: join(projectDir, '.kamal', 'secrets'),
    service: 'shop',
    provider: { type: 'ssh', hosts: [] },
    ssh: { user: 'root', port: 22, keyPath: '/home/laptop/.ssh/deploy', keyPathSetting: '~/.ssh/deploy' },
    ...overrides,
  } as DeployPlan;
}

describe('credentials resolved by name on the worker', () => {
  const elsewhere = join(tmpdir(), 'kamal-dev-not-on-this-machine', 'shop');

  it('reads ssh.key_path on the worker\'s own filesystem: `~` is the worker\'s home', () => {
    expect(workerKeyPath(planFrom(elsewhere), { HOME: '/home/worker' })).toBe('/home/worker/.ssh/deploy');
    // Where the project is, the source's own resolution stands.
    const here = mkdtempSync(join(tmpdir(), 'kamal-dev-source-'));
    expect(workerKeyPath(planFrom(here, { identity: projectIdentity(here) }), { HOME: '/home/worker' })).toBe('/home/laptop/.ssh/deploy');
  });

  it('a missing key fails non-retryably naming the path and the worker; no key is made off the source, not even for local VMs', async () => {
    const home = mkdtempSync(join(tmpdir(), 'kamal-dev-worker-home-'));
    const plan = planFrom(elsewhere, { provider: { type: 'docker' }, ssh: { user: 'root', port: 22, keyPath: '/nope', keyPathSetting: join(home, 'missing') } });
    expect(() => workerSshKeyPath(plan)).toThrow(expect.objectContaining({
      message: `SSH key ${join(home, 'missing')} does not exist on worker ${hostname()}`,
      type: 'SshKeyMissing',
      retry: 'bad-input',
      description: expect.stringContaining('This worker does not hold the project folder'),
    }));
    await expect(ensureSshKey(plan)).rejects.toMatchObject({ type: 'SshKeyMissing' });
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('secrets: the worker\'s environment, then its --secrets file; the source\'s .kamal/secrets is not read off the source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-worker-secrets-'));
    const file = join(dir, 'worker.secrets');
    writeFileSync(file, 'DB_PASSWORD=from-file\nAPI_TOKEN=file-token\n');
    const resolve = workerSecretResolver(planFrom(elsewhere), { file, env: { API_TOKEN: 'env-token' } });
    expect([resolve('DB_PASSWORD'), resolve('API_TOKEN')]).toEqual(['from-file', 'env-token']);
    expect(() => resolve('REGISTRY_PASSWORD')).toThrow(expect.objectContaining({
      message: `secret REGISTRY_PASSWORD is not set on worker ${hostname()}`,
      retry: 'bad-input',
      file,
      description: expect.stringContaining('export REGISTRY_PASSWORD in the environment of `kamal-dev worker`'),
    }));
  });

  it('on the source machine the project\'s .kamal/secrets is read too, and a missing name points at it', () => {
    const here = mkdtempSync(join(tmpdir(), 'kamal-dev-source-'));
    mkdirSync(join(here, '.kamal'), { recursive: true });
    writeFileSync(join(here, '.kamal', 'secrets'), 'DB_PASSWORD=project-value\n');
    const resolve = workerSecretResolver(planFrom(here, { identity: projectIdentity(here) }), { env: {} });
    expect(resolve('DB_PASSWORD')).toBe('project-value');
    expect(() => resolve('OTHER')).toThrow(expect.objectContaining({ message: 'secret OTHER is not set', file: join(here, '.kamal', 'secrets') }));
  });
});
