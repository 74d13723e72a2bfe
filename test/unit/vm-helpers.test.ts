import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackRegistryPorts, registryOf } from '../../src/remote/registryAccess';
import { envFileContent, inStack } from '../../src/remote/stackDir';
import { verdictOf } from '../../src/remote/verify';
import type { DeployPlan } from '../../src/spec/plan';
import { checkHostKey, forgetHost, keyLine } from '../../src/ssh/knownHosts';
import { ensureSshKey } from '../../src/ssh/keys';
import { authorizeKeyArgv } from '../../src/providers/docker-container';
import { adoptArgv } from '../../src/providers/docker-owner';
import { readState, updateState } from '../../src/state/devState';

const tmp = () => mkdtempSync(join(tmpdir(), 'kamal-dev-vms-unit-'));
// SSH wire format: string "ssh-ed25519", string <32 key bytes>
const wireKey = (fill: number) => {
  const type = Buffer.from('ssh-ed25519');
  const body = Buffer.alloc(32, fill);
  const len = (n: number) => Buffer.from([0, 0, 0, n]);
  return Buffer.concat([len(type.length), type, len(body.length), body]);
};

describe('known hosts', () => {
  it('records on first use, accepts the same key, refuses a changed one, forgets on request', () => {
    const file = join(tmp(), 'known_hosts');
    expect(checkHostKey(file, '127.0.0.1', 2201, wireKey(1))).toBe('recorded');
    expect(readFileSync(file, 'utf8')).toBe(keyLine('[127.0.0.1]:2201', wireKey(1)) + '\n');
    expect(readFileSync(file, 'utf8')).toMatch(/^\[127\.0\.0\.1\]:2201 ssh-ed25519 AAAA/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(checkHostKey(file, '127.0.0.1', 2201, wireKey(1))).toBe('known');
    expect(checkHostKey(file, '127.0.0.1', 2201, wireKey(2))).toBe('changed');
    expect(checkHostKey(file, '127.0.0.1', 2202, wireKey(2))).toBe('recorded');
    forgetHost(file, '127.0.0.1', 2201);
    expect(checkHostKey(file, '127.0.0.1', 2201, wireKey(2))).toBe('recorded');
  });
});

describe('stack files', () => {
  it('writes env values literally', () => {
    expect(envFileContent({ A: 'plain $HOME `x`', B: "it's\nmulti \"q\" $(x) \\" })).toBe(
      `A='plain $HOME \`x\`'\nB="it's\\nmulti \\"q\\" \\$(x) \\\\"\n`,
    );
  });

  it('resolves targets inside the stack folder', () => {
    expect(inStack('/opt/kamal-dev/app', 'env/.env')).toBe('/opt/kamal-dev/app/env/.env');
    expect(inStack('/opt/kamal-dev/app', '/srv/x')).toBe('/srv/x');
  });
});

describe('registry access', () => {
  it('finds the registry of an image reference', () => {
    expect(registryOf('localhost:5556/lab/app:1')).toBe('localhost:5556');
    expect(registryOf('ghcr.io/me/app')).toBe('ghcr.io');
    expect(registryOf('postgres:16')).toBeUndefined();
    expect(registryOf('library/postgres')).toBeUndefined();
  });

  it('forwards every loopback registry port the plan or the compose file uses', () => {
    const plan = {
      registry: { server: 'localhost:5555', namespace: 'me', local: true },
      stack: { compose: { services: { a: { image: 'localhost:5556/x/a:1' }, b: { image: 'ghcr.io/x/b' }, c: { image: '127.0.0.1:5555/c' } } } },
    } as unknown as DeployPlan;
    expect(loopbackRegistryPorts(plan)).toEqual([5555, 5556]);
  });
});

describe('verify verdicts', () => {
  const c = (state: string, health?: string, exitCode = 0) => ({ service: 's', name: 'n', state, health, exitCode, ports: [] });
  it.each([
    [c('running'), 'ok'],
    [c('running', 'healthy'), 'ok'],
    [c('running', 'starting'), 'pending'],
    [c('running', 'unhealthy'), 'failed'],
    [c('exited', undefined, 0), 'ok'],
    [c('exited', undefined, 1), 'failed'],
    [c('restarting'), 'pending'],
    [c('created'), 'pending'],
  ])('%j -> %s', (container, verdict) => {
    expect(verdictOf(container)).toBe(verdict);
  });
});

describe('dev_state.yml', () => {
  it('is updated under a lock by concurrent writers without losing one', async () => {
    const file = join(tmp(), '.kamal', 'dev_state.yml');
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        updateState(file, (s) => {
          s.ssh_claims[`h${i}:22`] = { name: `vm-${i}`, project: 'p' };
        }),
      ),
    );
    expect(Object.keys(readState(file).ssh_claims)).toHaveLength(8);
    expect(readState(join(tmp(), 'missing.yml'))).toEqual({ deployments: {}, ssh_claims: {} });
  });
});

describe('SSH key for a deployment', () => {
  const planWith = (projectDir: string, provider: DeployPlan['provider']) =>
    ({ projectDir, service: 'app', provider, ssh: { user: 'root', port: 22, keyPath: join(projectDir, 'no-such-key') } }) as DeployPlan;

  it('local VMs get a project key under .kamal/ssh when the configured one is missing', async () => {
    const dir = tmp();
    const { keyPath, publicKey } = await ensureSshKey(planWith(dir, { type: 'docker' }));
    expect(keyPath).toBe(join(dir, '.kamal', 'ssh', 'id_ed25519'));
    expect(publicKey).toMatch(/^ssh-ed25519 \S+ kamal-dev app$/);
    expect((await ensureSshKey(planWith(dir, { type: 'docker' }))).publicKey).toBe(publicKey);
  });

  it('makes one key when the VMs of a first deploy all ask at once', async () => {
    const dir = tmp();
    const keys = await Promise.all([1, 2, 3].map(() => ensureSshKey(planWith(dir, { type: 'docker' }))));
    expect(new Set(keys.map((k) => k.publicKey)).size).toBe(1);
  });

  it('never hands out the public key of a pair still being made', async () => {
    const dir = tmp();
    const plan = planWith(dir, { type: 'docker' });
    const first = ensureSshKey(plan);
    // A provision that comes along once the private key file is there (ssh-keygen writes it first).
    while (!existsSync(join(dir, '.kamal', 'ssh', 'id_ed25519'))) await new Promise((r) => setImmediate(r));
    const second = await ensureSshKey(plan);
    expect(second.publicKey).toMatch(/^ssh-ed25519 \S+ kamal-dev app$/);
    expect(second.publicKey).toBe((await first).publicKey);
  });

  it('real machines need the configured key: a clear config error', async () => {
    await expect(ensureSshKey(planWith(tmp(), { type: 'ssh', hosts: [] }))).rejects.toMatchObject({
      kind: 'config',
      message: expect.stringMatching(/SSH key .*no-such-key does not exist/),
    });
  });
});

describe('adopting a local VM', () => {
  it('authorises the key in authorized_keys2 once, as argv (the key is never part of the script)', () => {
    const key = "ssh-ed25519 AAAA k'$(x)";
    expect(authorizeKeyArgv('c0ffee', 'dev', `${key}\n`)).toEqual([
      'docker', 'exec', '--user', 'root', 'c0ffee', 'sh', '-c',
      'for _ in $(seq 30); do home=$(getent passwd "$1" | cut -d: -f6); [ -n "$home" ] && [ -d "$home/.ssh" ] && break; sleep 1; done; file="$home/.ssh/authorized_keys2"; grep -qxF "$2" "$file" 2>/dev/null || printf "%s\\n" "$2" >>"$file"; chown "$1" "$file" && chmod 600 "$file"',
      'sh', 'dev', key,
    ]);
  });

  it('records the adopting identity in the VM as a link, replacing an earlier one (paths as argv, not in the script)', () => {
    expect(adoptArgv('c0ffee', '3f9c0a1b2c3d4e5f')).toEqual([
      'docker', 'exec', '--user', 'root', 'c0ffee', 'sh', '-c', 'mkdir -p "$(dirname "$1")" && ln -sfn "$2" "$1"',
      'sh', '/etc/kamal-dev/adopted-by', '/etc/kamal-dev/projects/3f9c0a1b2c3d4e5f',
    ]);
  });
});
