import { generateKeyPairSync } from 'node:crypto';
import { createUpcloudProvider, UPCLOUD_API_URL } from '../../src/providers/upcloud';
import { UpcloudApi } from '../../src/providers/upcloud-api';
import { describeWhen } from '../support/lab';

/**
 * The one test against the real UpCloud API: it runs only when UPCLOUD_USERNAME and UPCLOUD_PASSWORD
 * are set, creates one server of the smallest plan (UPCLOUD_PLAN, default 1xCPU-1GB) in UPCLOUD_ZONE
 * (default fi-hel1), and deletes it again, also when an assertion fails. UPCLOUD_API_URL points it
 * elsewhere (e.g. at test/support/upcloud-fake.ts to check the test itself). The firewall it gets
 * is read back through the API: what kamal-dev sends is what UpCloud takes.
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

  const api = new UpcloudApi({ baseUrl: process.env.UPCLOUD_API_URL ?? UPCLOUD_API_URL, usernameSecret: 'UPCLOUD_USERNAME', passwordSecret: 'UPCLOUD_PASSWORD', resolveSecret: (secret) => process.env[secret] });
  const openPorts = [{ name: 'app:3000', protocol: 'tcp' as const, from: 3000, to: 3000 }];

  afterAll(async () => void (await provider.destroy(name)));

  it('creates a server once, with its firewall, lists it by label and destroys it with its disk', async () => {
    const vm = await provider.provision({ name, labels, sshPublicKey: throwawayPublicKey(), openPorts });
    expect(vm).toMatchObject({ name, status: 'running', ssh: { port: 22, user: 'root' }, labels });
    expect(vm.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    // UpCloud took the rules as sent (it answers unset fields as empty strings) and turned the firewall on.
    const { firewall_rules } = await api.request<{ firewall_rules: { firewall_rule: Record<string, string>[] } }>('GET', `/server/${vm.id}/firewall_rule`);
    expect(firewall_rules.firewall_rule.map((r) => [r.direction, r.action, r.protocol, r.destination_port_start].filter(Boolean).join(' '))).toEqual([
      'in accept tcp 22',
      'in accept tcp 3000',
      'in accept tcp 32768',
      'in accept udp 32768',
      'in accept udp 68',
      'in accept icmp',
      'in drop',
    ]);
    expect((await api.request<{ server: { firewall: string } }>('GET', `/server/${vm.id}`)).server.firewall).toBe('on');

    expect((await provider.provision({ name, labels, sshPublicKey: throwawayPublicKey(), openPorts })).id).toBe(vm.id);
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
