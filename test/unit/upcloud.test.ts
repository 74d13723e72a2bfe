import { KamalDevError } from '../../src/errors';
import { Provider } from '../../src/providers/types';
import { createUpcloudProvider, UpcloudConfig } from '../../src/providers/upcloud';
import { realSleep, Sleep } from '../../src/providers/upcloud-api';
import { bootInstallScript } from '../../src/docker/bootstrap';
import { templateOs } from '../../src/providers/upcloud-shapes';
import { TEMPLATES, UpcloudFake } from '../support/upcloud-fake';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyForTests kamal-dev';
const IDENTITY = 'a1b2c3d4e5f60718';
const labelsFor = (deployment: string, index: number) => ({
  'kamal-dev.managed': 'true',
  'kamal-dev.service': 'shop',
  'kamal-dev.deployment': deployment,
  'kamal-dev.index': String(index),
});

describe('upcloud provider against the local UpCloud API', () => {
  let fake: UpcloudFake;
  let waits: number[];
  const secrets = (): Record<string, string> => ({ UPCLOUD_USERNAME: fake.username, UPCLOUD_PASSWORD: fake.password });
  // Records what the provider asked to wait and waits at most 5 ms of it, so backoffs and Retry-After stay visible but fast.
  const sleep: Sleep = (ms, signal) => {
    waits.push(ms);
    return realSleep(Math.min(ms, 5), signal);
  };
  const provider = (config: Partial<UpcloudConfig> = {}, values = secrets(), timeouts = {}, identity = IDENTITY): Provider =>
    createUpcloudProvider(
      { type: 'upcloud', zone: 'fi-hel1', plan: '1xCPU-1GB', usernameSecret: 'UPCLOUD_USERNAME', passwordSecret: 'UPCLOUD_PASSWORD', apiUrl: fake.url, ...config },
      { resolveSecret: (name) => values[name], identity, pollIntervalMs: 2, retry: { baseDelayMs: 1, maxDelayMs: 4 }, sleep, ...timeouts },
    );
  const posts = () => fake.requests.filter((r) => r === 'POST /server').length;

  beforeEach(async () => {
    fake = await UpcloudFake.start();
    waits = [];
  });
  afterEach(() => fake.close());

  it('creates a server from the newest Ubuntu LTS template with the key, labels and hostname, and returns its public IPv4', async () => {
    const vm = await provider().provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: `${KEY}\n` });

    const [server] = fake.servers.values();
    expect(vm).toEqual({
      id: server.uuid,
      name: 'shop-1',
      status: 'running',
      ssh: { host: server.ip, port: 22, user: 'root' },
      ip: server.ip,
      labels: { ...labelsFor('d1', 1), 'kamal-dev.project': IDENTITY },
      created: true,
    });
    expect(server.created).toMatchObject({
      title: 'shop-1',
      hostname: 'shop-1',
      zone: 'fi-hel1',
      plan: '1xCPU-1GB',
      metadata: 'yes',
      login_user: { username: 'root', create_password: 'no', ssh_keys: { ssh_key: [KEY] } },
      storage_devices: { storage_device: [{ action: 'clone', storage: TEMPLATES[1].uuid, size: 25, tier: 'maxiops' }] },
    });
    expect(server.labels).toEqual([
      { key: 'kamal-dev_managed', value: 'true' },
      { key: 'kamal-dev_service', value: 'shop' },
      { key: 'kamal-dev_deployment', value: 'd1' },
      { key: 'kamal-dev_index', value: '1' },
      { key: 'kamal-dev_project', value: IDENTITY },
    ]);
  });

  it('finds its server instead of creating a second one, and waits through a slow start', async () => {
    fake.startPolls = 3;
    const first = await provider().provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: KEY });
    const again = await provider().provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: KEY });
    expect(again.id).toBe(first.id);
    expect(posts()).toBe(1);
    expect(fake.requests.filter((r) => r.startsWith(`GET /server/${first.id}`)).length).toBeGreaterThanOrEqual(4);
  });

  it('lists by labels, stops, starts and destroys by name; destroying what is gone succeeds', async () => {
    const p = provider();
    const a = await p.provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: KEY });
    await p.provision({ name: 'other-1', labels: labelsFor('d2', 1), sshPublicKey: KEY });

    expect((await p.list({ 'kamal-dev.deployment': 'd1' })).map((vm) => vm.name)).toEqual(['shop-1']);
    expect(await p.list({ 'kamal-dev.service': 'shop' })).toHaveLength(2);

    await p.stop('shop-1');
    expect(fake.servers.get(a.id)?.state).toBe('stopped');
    expect((await p.list({ 'kamal-dev.deployment': 'd1' }))[0].status).toBe('stopped');
    expect(await p.start('shop-1')).toMatchObject({ id: a.id, status: 'running' });

    await p.destroy('shop-1');
    expect(fake.servers.has(a.id)).toBe(false);
    expect(fake.requests).toContain(`DELETE /server/${a.id}?storages=1&backups=delete`);
    await expect(p.destroy('shop-1')).resolves.toBe('gone');
    expect(fake.servers.size).toBe(1);
  });

  it('two projects whose servers share a title never touch each other\'s (provision, list, stop, destroy)', async () => {
    const mine = provider();
    const theirs = provider({}, secrets(), {}, 'ffff0000ffff0000');
    const a = await mine.provision({ name: 'shop-1', labels: labelsFor('shop', 1), sshPublicKey: KEY });

    const refused = await theirs.provision({ name: 'shop-1', labels: labelsFor('shop', 1), sshPublicKey: KEY }).catch((e) => e);
    expect(refused).toMatchObject({ kind: 'provider', message: `VM shop-1 belongs to another kamal-dev project (kamal-dev.project=${IDENTITY}); kamal-dev left it untouched (UpCloud server ${a.id})` });
    expect(refused.description).toMatch(/kamal-dev adopt shop-1/);
    expect(posts()).toBe(1);
    expect(await theirs.list({ 'kamal-dev.deployment': 'shop' })).toEqual([]);
    await expect(theirs.stop('shop-1')).rejects.toMatchObject({ message: expect.stringMatching(/belongs to another kamal-dev project/) });
    await expect(theirs.destroy('shop-1')).rejects.toMatchObject({ message: expect.stringMatching(/belongs to another kamal-dev project/) });
    await expect(theirs.destroy('shop-1', { createdBy: 'their-run' })).resolves.toBe('kept');
    expect(fake.servers.get(a.id)?.state).toBe('started');

    // Their own server of the same title (made under another name, then renamed in the Hub) is theirs alone.
    const b = await theirs.provision({ name: 'shop-x', labels: labelsFor('shop', 1), sshPublicKey: KEY });
    fake.servers.get(b.id)!.title = 'shop-1';
    expect((await mine.list({})).map((vm) => vm.id)).toEqual([a.id]);
    expect((await theirs.list({})).map((vm) => vm.id)).toEqual([b.id]);
    await expect(theirs.destroy('shop-1')).resolves.toBe('destroyed');
    expect([...fake.servers.keys()]).toEqual([a.id]);
  });

  it('a compensation destroys only the server its own run created, never one it found', async () => {
    const p = provider();
    const first = await p.provision({ name: 'shop-1', labels: labelsFor('shop', 1), createdBy: 'deploy-1/vm/shop-1', sshPublicKey: KEY });
    expect(first.created).toBe(true);
    expect(fake.servers.get(first.id)?.labels).toContainEqual({ key: 'kamal-dev_created-by', value: 'deploy-1/vm/shop-1' });
    // A retry of the same run finds what it made: still "created".
    expect((await p.provision({ name: 'shop-1', labels: labelsFor('shop', 1), createdBy: 'deploy-1/vm/shop-1', sshPublicKey: KEY })).created).toBe(true);
    const redeploy = await p.provision({ name: 'shop-1', labels: labelsFor('shop', 1), createdBy: 'deploy-2/vm/shop-1', sshPublicKey: KEY });
    expect(redeploy).toMatchObject({ id: first.id, created: false });
    await expect(p.destroy('shop-1', { createdBy: 'deploy-2/vm/shop-1' })).resolves.toBe('kept');
    expect(fake.servers.has(first.id)).toBe(true);
    await expect(p.destroy('shop-1', { createdBy: 'deploy-1/vm/shop-1' })).resolves.toBe('destroyed');
    expect(fake.servers.size).toBe(0);
  });

  it('a server made before project identities is refused until adopted; adopt relabels it through the API', async () => {
    const made = await provider().provision({ name: 'shop-1', labels: labelsFor('shop', 1), sshPublicKey: KEY });
    const server = fake.servers.get(made.id)!;
    server.labels = server.labels.filter((l) => l.key !== 'kamal-dev_project');

    const refused = await provider().provision({ name: 'shop-1', labels: labelsFor('shop', 1), sshPublicKey: KEY }).catch((e) => e);
    expect(refused.message).toBe(`VM shop-1 was made before kamal-dev recorded project identities (it has no kamal-dev.project label); kamal-dev left it untouched (UpCloud server ${made.id})`);
    expect(await provider().list({})).toEqual([]);

    expect(await provider().adopt('shop-1', { sshPublicKey: KEY })).toMatchObject({ id: made.id, labels: expect.objectContaining({ 'kamal-dev.project': IDENTITY }) });
    expect(fake.requests).toContain(`PUT /server/${made.id}`);
    expect(server.labels).toContainEqual({ key: 'kamal-dev_service', value: 'shop' });
    expect(await provider().provision({ name: 'shop-1', labels: labelsFor('shop', 1), sshPublicKey: KEY })).toMatchObject({ id: made.id, created: false });
    expect(posts()).toBe(1);
    await expect(provider().adopt('shop-9', { sshPublicKey: KEY })).rejects.toMatchObject({ kind: 'config', message: 'no kamal-dev VM named shop-9 exists' });
  });

  it('retries 500s and waits what Retry-After says on 429', async () => {
    fake.fail({ status: 500, times: 2, path: '/storage/template' });
    fake.fail({ status: 429, times: 1, method: 'POST', path: '/server', retryAfter: '2' });
    const vm = await provider().provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: KEY });
    expect(vm.status).toBe('running');
    expect(fake.servers.size).toBe(1);
    expect(waits).toContain(2000);
  });

  it('does not create a second server when a create succeeded behind a 502', async () => {
    fake.fail({ status: 502, times: 1, method: 'POST', path: '/server', afterWork: true });
    const vm = await provider().provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: KEY });
    expect(posts()).toBe(1);
    expect([...fake.servers.keys()]).toEqual([vm.id]);
  });

  it('gives up after the bounded retries with the HTTP status', async () => {
    fake.fail({ status: 503, times: 100, path: '/plan' });
    const error = await provider().provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: KEY }).catch((e) => e);
    expect(error).toBeInstanceOf(KamalDevError);
    expect(error.kind).toBe('provider');
    expect(error.message).toMatch(/GET \/plan: HTTP 503/);
    expect(error).toMatchObject({ retry: 'transient', exitCode: 1 });
    expect(fake.requests.filter((r) => r === 'GET /plan')).toHaveLength(6);
  });

  it('says a stop that does not finish in time is transient (the step is tried again), and a 4xx is final', async () => {
    const p = provider({}, secrets(), { stopTimeoutMs: 20 });
    await p.provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: KEY });
    fake.stopsIgnored = 1000;
    const error = await p.stop('shop-1').catch((e) => e);
    expect(error).toMatchObject({ kind: 'provider', retry: 'transient', message: expect.stringMatching(/was not stopped after 0 s \(last state: started\)/) });
    fake.stopsIgnored = 0;
    await p.stop('shop-1');
    const badZone = await provider({ zone: 'xx-nowhere1' }).provision({ name: 's', labels: {}, sshPublicKey: KEY }).catch((e) => e);
    expect(badZone).toMatchObject({ retry: 'final' });
  });

  it('deletes a server that never starts and says so', async () => {
    fake.neverStart = true;
    const p = provider({}, secrets(), { startTimeoutMs: 40 });
    const error = await p.provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: KEY }).catch((e) => e);
    expect(error).toBeInstanceOf(KamalDevError);
    expect(error.message).toMatch(/^UpCloud server shop-1 \([0-9a-f-]+\) was not started after 0 s \(last state: maintenance\); it was deleted$/);
    expect(fake.servers.size).toBe(0);
    expect(posts()).toBe(1);
  });

  it('names the secrets, never their values, when UpCloud rejects the credentials', async () => {
    const error = await provider({}, { UPCLOUD_USERNAME: 'someone', UPCLOUD_PASSWORD: 'wrong-s3cret' })
      .list({})
      .catch((e) => e);
    expect(error).toMatchObject({ kind: 'provider', retry: 'bad-input', exitCode: 2 });
    expect(error.message).toMatch(/UPCLOUD_USERNAME and UPCLOUD_PASSWORD \(HTTP 401 AUTHENTICATION_FAILED\)/);
    expect(`${error.message} ${error.description}`).not.toMatch(/wrong-s3cret|someone/);
    expect(fake.requests).toHaveLength(1);
  });

  it('reports a missing secret as a config error', async () => {
    const error = await provider({}, { UPCLOUD_USERNAME: 'x' }).list({}).catch((e) => e);
    expect(error).toMatchObject({ kind: 'config', message: 'secret UPCLOUD_PASSWORD is not set (UpCloud API credentials)' });
  });

  it("passes UpCloud's validation error through, and checks the plan first", async () => {
    const badZone = await provider({ zone: 'xx-nowhere1' }).provision({ name: 's', labels: {}, sshPublicKey: KEY }).catch((e) => e);
    expect(badZone.message).toBe('UpCloud API POST /server: HTTP 400 ZONE_INVALID: The zone is invalid.');
    const badPlan = await provider({ plan: '64xCPU' }).provision({ name: 's', labels: {}, sshPublicKey: KEY }).catch((e) => e);
    expect(badPlan).toMatchObject({ kind: 'config', key: 'provider.plan', message: 'UpCloud has no plan "64xCPU"' });
    expect(posts()).toBe(1);
  });

  it('uses the template named in config', async () => {
    await provider({ template: 'Debian GNU/Linux 12 (Bookworm)', plan: 'DEV-1xCPU-1GB-10GB' }).provision({ name: 's', labels: {}, sshPublicKey: KEY });
    const [server] = fake.servers.values();
    expect(server.created).toMatchObject({ storage_devices: { storage_device: [{ storage: TEMPLATES[3].uuid, size: 10, tier: 'standard' }] } });
    expect(server.userData).toBe(bootInstallScript({ osId: 'debian', codename: 'bookworm' }));
  });

  it("passes the template OS's Docker + Compose install as user-data, so cloud-init runs it while the server boots", async () => {
    await provider().provision({ name: 'shop-1', labels: labelsFor('d1', 1), sshPublicKey: KEY });
    const [server] = fake.servers.values();
    expect(server.userData).toBe(bootInstallScript({ osId: 'ubuntu', codename: 'noble' }));
    expect(server.userData).toMatch(/^#!\/bin\/sh\n/);
    expect(server.userData).toContain('apt_install docker.io pigz docker-compose-v2');
    expect(server.userData).toContain('systemctl enable --now docker');
  });

  it('sends no user-data for a template whose OS it cannot install Docker on (bootstrap says why later)', async () => {
    expect(templateOs({ uuid: 'x', title: 'CentOS Stream 9', type: 'template' })).toBeUndefined();
    expect(bootInstallScript({ osId: 'debian', codename: 'buster' })).toBeUndefined();
  });

  it('stops waiting when the signal aborts', async () => {
    fake.neverStart = true;
    const controller = new AbortController();
    const pending = provider().provision({ name: 'shop-1', labels: {}, sshPublicKey: KEY }, controller.signal);
    setTimeout(() => controller.abort(new Error('cancelled')), 30);
    await expect(pending).rejects.toThrow('cancelled');
  });
});
