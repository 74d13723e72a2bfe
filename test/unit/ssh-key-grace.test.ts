import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from 'ssh2';
import { createVmActivities } from '../../src/activities/vm';
import { keyGraceFor } from '../../src/activities/waitForSsh';
import type { VmHandle } from '../../src/domain/vm';
import { toActivityFailure } from '../../src/activities/failures';
import { ensureSshKey } from '../../src/ssh/keys';
import type { DeployPlan } from '../../src/spec/plan';

const plan = (type: string, projectDir = '/nowhere'): DeployPlan =>
  ({ projectDir, service: 'grace', provider: { type }, ssh: { user: 'root', port: 22, keyPath: join(projectDir, 'missing-key') } }) as unknown as DeployPlan;

describe('the SSH key-refusal grace after a provision', () => {
  it('is given to a VM this run created, never to one it found or to an existing host', () => {
    expect(keyGraceFor(plan('upcloud'), { created: true })).toBe(true);
    expect(keyGraceFor(plan('docker'), { created: true })).toBe(true);
    expect(keyGraceFor(plan('upcloud'), { created: false })).toBe(false);
    expect(keyGraceFor(plan('ssh'), { created: true })).toBe(false);
    // A handle from a run that predates `created` keeps the grace that run had.
    expect(keyGraceFor(plan('upcloud'), {})).toBe(true);
  });
});

describe('waitForSsh on a found VM whose sshd refuses the key', () => {
  let server: Server;
  let logins = 0;
  beforeAll(async () => {
    // Made by ssh-keygen, as the product's keys are: on a fresh machine (where ssh2's optional native
    // crypto binding is not built) ssh2 refused the ed25519 key its own generator wrote.
    const hostKey = join(mkdtempSync(join(tmpdir(), 'kamal-dev-grace-host-')), 'key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
    server = new Server({ hostKeys: [readFileSync(hostKey)] }, (client) => {
      client.on('authentication', (ctx) => {
        if (ctx.method === 'publickey') logins++;
        ctx.reject(['publickey']);
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('fails at the first refusal with a non-retryable failure that says the VM was found and what to do', async () => {
    const found = plan('docker', mkdtempSync(join(tmpdir(), 'kamal-dev-grace-')));
    await ensureSshKey(found);
    const port = (server.address() as AddressInfo).port;
    const vm: VmHandle = { deployment: 'grace', name: 'grace-1', index: 1, id: 'x', provider: 'docker', ip: '127.0.0.1', ssh: { host: '127.0.0.1', port, user: 'root' }, created: false };
    const activities = createVmActivities({ resolveSecret: async () => '' });
    try {
      const failure = toActivityFailure(await activities.waitForSsh({ plan: found, vm }).catch((e: unknown) => e));
      expect(failure).toMatchObject({ type: 'SshAuthFailed', nonRetryable: true });
      expect(failure.message).toContain(`grace-1 was already there (this deploy found it, it did not create it) and root@127.0.0.1:${port} refused the SSH key`);
      expect((failure as unknown as { details: { description: string }[] }).details[0].description).toContain('kamal-dev adopt grace-1');
      expect(logins).toBe(1);
    } finally {
      await activities.close();
    }
  });
});
