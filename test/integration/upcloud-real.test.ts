import { generateKeyPairSync } from 'node:crypto';
import { createUpcloudProvider } from '../../src/providers/upcloud';
import { describeWhen } from '../support/lab';

/**
 * The one test against the real UpCloud API: it runs only when UPCLOUD_USERNAME and UPCLOUD_PASSWORD
 * are set, creates one server of the smallest plan (UPCLOUD_PLAN, default 1xCPU-1GB) in UPCLOUD_ZONE
 * (default fi-hel1), and deletes it again, also when an assertion fails. UPCLOUD_API_URL points it
 * elsewhere (e.g. at test/support/upcloud-fake.ts to check the test itself).
 */
const hasCredentials = Boolean(process.env.UPCLOUD_USERNAME && process.env.UPCLOUD_PASSWORD);

jest.setTimeout(20 * 60_000);

describeWhen(hasCredentials, 'UPCLOUD_USERNAME and UPCLOUD_PASSWORD are not set', 'upcloud provider against the real UpCloud API', () => {
  const name = `kamal-dev-test-${process.pid}`;
  const labels = { 'kamal-dev.managed': 'true', 'kamal-dev.service': 'kamal-dev-test', 'kamal-dev.deployment': name, 'kamal-dev.index': '1' };
  const provider = createUpcloudProvider(
    {
      type: 'upcloud',
      zone: process.env.UPCLOUD_ZONE ?? 'fi-hel1',
      plan: process.env.UPCLOUD_PLAN ?? '1xCPU-1GB',
      usernameSecret: 'UPCLOUD_USERNAME',
      passwordSecret: 'UPCLOUD_PASSWORD',
      apiUrl: process.env.UPCLOUD_API_URL,
    },
    { resolveSecret: (secret) => process.env[secret], identity: `real-test-${process.pid}` },
  );

  afterAll(async () => void (await provider.destroy(name)));

  it('creates a server once, lists it by label and destroys it with its disk', async () => {
    const vm = await provider.provision({ name, labels, sshPublicKey: throwawayPublicKey() });
    expect(vm).toMatchObject({ name, status: 'running', ssh: { port: 22, user: 'root' }, labels });
    expect(vm.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    expect((await provider.provision({ name, labels, sshPublicKey: throwawayPublicKey() })).id).toBe(vm.id);
    expect((await provider.list({ 'kamal-dev.deployment': name })).map((v) => v.id)).toEqual([vm.id]);

    await provider.destroy(name);
    expect(await provider.list({ 'kamal-dev.deployment': name })).toEqual([]);
  });
});

/** An OpenSSH ed25519 public key line for a key nobody keeps: the test never logs in. */
function throwawayPublicKey(): string {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  const length = (data: Buffer) => {
    const header = Buffer.alloc(4);
    header.writeUInt32BE(data.length);
    return Buffer.concat([header, data]);
  };
  return `ssh-ed25519 ${Buffer.concat([length(Buffer.from('ssh-ed25519')), length(raw)]).toString('base64')} kamal-dev-test`;
}
