import { createUpcloudProvider } from '../../src/providers/upcloud';
import { firewallRules } from '../../src/providers/upcloud-firewall';
import { realSleep } from '../../src/providers/upcloud-api';
import { privatePorts, publicHostPorts } from '../../src/spec/compose-ports';
import { UpcloudFake } from '../support/upcloud-fake';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests kamal-dev';
const labels = { 'kamal-dev.managed': 'true', 'kamal-dev.service': 'shop', 'kamal-dev.deployment': 'shop', 'kamal-dev.index': '1' };
const APP = { name: 'app:3000', protocol: 'tcp' as const, from: 3000, to: 3000 };

/** What the server lets in: protocol and destination ports of each accepting rule, then the last rule's action. */
function inbound(rules: Record<string, string>[]): string[] {
  return rules.map((r) => (r.action === 'accept' ? [r.protocol, r.destination_port_start && `${r.destination_port_start}-${r.destination_port_end}`].filter(Boolean).join(' ') : r.action));
}

describe('UpCloud firewall: SSH and what public_ports opens, nothing else', () => {
  let fake: UpcloudFake;
  const provider = () =>
    createUpcloudProvider(
      { type: 'upcloud', zone: 'fi-hel1', plan: '1xCPU-1GB', usernameSecret: 'U', passwordSecret: 'P', apiUrl: fake.url },
      { resolveSecret: (name) => ({ U: fake.username, P: fake.password })[name], identity: 'a1b2c3d4e5f60718', pollIntervalMs: 2, retry: { baseDelayMs: 1, maxDelayMs: 4 }, sleep: (ms, signal) => realSleep(Math.min(ms, 5), signal) },
    );

  beforeEach(async () => (fake = await UpcloudFake.start()));
  afterEach(() => fake.close());

  it('a new server gets its firewall on, with SSH, the open ports and the replies a stateless firewall must let in', async () => {
    const vm = await provider().provision({ name: 'shop-1', labels, sshPublicKey: KEY, openPorts: [APP] });
    const server = fake.servers.get(vm.id)!;
    expect(server.firewall).toBe('on');
    expect(inbound(server.firewallRules)).toEqual(['tcp 22-22', 'tcp 3000-3000', 'tcp 32768-60999', 'udp 32768-60999', 'udp 68-68', 'icmp', 'drop']);
    expect(server.firewallRules.at(-1)).toEqual({ direction: 'in', action: 'drop', comment: 'kamal-dev: everything else', position: '7' });
    // Rules go in once the server runs, before anyone could reach a stack (there is none yet).
    const order = fake.requests.filter((r) => /^(PUT|GET) \/server\/[^?]+$/.test(r));
    expect(order.indexOf(`PUT /server/${vm.id}/firewall_rule`)).toBeLessThan(order.lastIndexOf(`PUT /server/${vm.id}`));
  });

  it('a redeploy rewrites the rules for the public_ports of now, and a repeat changes nothing', async () => {
    const first = await provider().provision({ name: 'shop-1', labels, sshPublicKey: KEY, openPorts: [APP] });
    await provider().provision({ name: 'shop-1', labels, sshPublicKey: KEY });
    const server = fake.servers.get(first.id)!;
    expect(inbound(server.firewallRules)).toEqual(['tcp 22-22', 'tcp 32768-60999', 'udp 32768-60999', 'udp 68-68', 'icmp', 'drop']);
    const rules = server.firewallRules;
    await provider().provision({ name: 'shop-1', labels, sshPublicKey: KEY });
    expect(server.firewallRules).toEqual(rules);
    expect(server.firewall).toBe('on');
  });

  it("keeps the rules of a server that has someone else's (an adopted one), and its firewall setting", async () => {
    const vm = await provider().provision({ name: 'shop-1', labels, sshPublicKey: KEY });
    const server = fake.servers.get(vm.id)!;
    const own = [{ direction: 'in', action: 'accept', family: 'IPv4', protocol: 'tcp', destination_port_start: '443', destination_port_end: '443', comment: 'my web site', position: '1' }];
    Object.assign(server, { firewall: 'off', firewallRules: own });
    await provider().provision({ name: 'shop-1', labels, sshPublicKey: KEY, openPorts: [APP] });
    expect([server.firewall, server.firewallRules]).toEqual(['off', own]);
  });

  it('a new server whose firewall cannot be set is deleted again, with the reason', async () => {
    fake.fail({ status: 400, times: 1, method: 'PUT', path: '/firewall_rule' });
    await expect(provider().provision({ name: 'shop-1', labels, sshPublicKey: KEY })).rejects.toMatchObject({ message: expect.stringMatching(/firewall_rule: HTTP 400.*; it was deleted/) });
    expect(fake.servers.size).toBe(0);
  });

  it('the fake refuses rules the API refuses, so the rules above are ones UpCloud takes', async () => {
    for (const rule of firewallRules(22, [APP, { name: 'dns:53', protocol: 'udp', from: 53, to: 53 }])) {
      expect(Object.values(rule).every((v) => typeof v === 'string')).toBe(true);
    }
    const vm = await provider().provision({ name: 'shop-1', labels, sshPublicKey: KEY });
    const put = (rule: object) =>
      fetch(`${fake.url}/server/${vm.id}/firewall_rule`, {
        method: 'PUT',
        headers: { authorization: `Basic ${Buffer.from(`${fake.username}:${fake.password}`).toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ firewall_rules: { firewall_rule: [rule] } }),
      }).then((r) => r.status);
    expect(await put({ direction: 'in', action: 'accept', destination_port_start: '22', destination_port_end: '22' })).toBe(400);
    expect(await put({ direction: 'in', action: 'accept', family: 'IPv4', protocol: 'tcp', destination_port_start: 22, destination_port_end: 22 })).toBe(400);
    expect(await put({ direction: 'in', action: 'drop' })).toBe(200);
  });
});

describe('the ports a stack opens beyond the VM', () => {
  it('are the public_ports and ports bound to a specific address; loopback and random host ports are not', () => {
    const compose = {
      app: { ports: [{ target: 3000, published: '3000' }, { target: 9229, published: '9229' }] },
      db: { ports: [{ target: 5432, published: '5432' }] },
      dns: { ports: [{ target: 53, published: '5353', protocol: 'udp' }, { target: 8000, published: '8000-8010', host_ip: '10.0.0.5' }, { target: 81 }] },
    };
    expect(publicHostPorts(privatePorts(compose, ['app:3000', 'dns:53'], 'config/dev.yml'))).toEqual([
      APP,
      { name: 'dns:53', protocol: 'udp', from: 5353, to: 5353 },
      { name: 'dns:8000', protocol: 'tcp', from: 8000, to: 8010 },
    ]);
  });
});
