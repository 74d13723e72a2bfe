import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshProvider } from '../../src/providers/ssh';
import type { HostMarker, HostStack } from '../../src/providers/ssh-host';
import type { VmInstance } from '../../src/providers/types';
import { readState, updateState } from '../../src/state/devState';

/** The ssh provider's claim rules over two hosts; the markers live in memory (vm-deploy.test.ts has them on a real host). */
describe('ssh provider: claims and host markers', () => {
  const hosts = [{ host: '10.0.0.1' }, { host: '10.0.0.2' }];
  let stateFile: string;
  let markers: Map<string, HostMarker>;
  let removed: string[];
  let unreachable: Set<string>;
  const stack: HostStack = {
    remove: async (vm: VmInstance) => void removed.push(vm.id),
    stop: async () => undefined,
    start: async () => undefined,
    readMarker: async (vm) => {
      if (unreachable.has(vm.id)) throw new Error(`connect ECONNREFUSED ${vm.id}`);
      return markers.get(vm.id);
    },
    writeMarker: async (vm, marker) => void markers.set(vm.id, marker),
    // As on the host: the first of two claims at once wins (src/remote/hostMarker.ts).
    claimMarker: async (vm, marker) => {
      const holder = markers.get(vm.id);
      if (!holder) markers.set(vm.id, marker);
      return holder;
    },
    removeMarker: async (vm) => void markers.delete(vm.id),
  };
  const provider = (identity: string) => new SshProvider({ hosts, stateFile, defaultUser: 'root', defaultPort: 22, hostStack: stack, identity });
  /** A worker on another machine: no state file, only the markers. */
  const elsewhere = (identity: string) => new SshProvider({ hosts, defaultUser: 'root', defaultPort: 22, hostStack: stack, identity });
  const request = (name: string, createdBy?: string) => ({ name, labels: { 'kamal-dev.deployment': 'shop' }, createdBy, sshPublicKey: 'k' });
  const marker = (project: string, name: string, createdBy?: string) => ({ project, name, labels: { 'kamal-dev.deployment': 'shop', ...(createdBy ? { 'kamal-dev.created-by': createdBy } : {}) } });

  beforeEach(() => {
    stateFile = join(mkdtempSync(join(tmpdir(), 'kamal-dev-ssh-provider-')), 'dev_state.yml');
    markers = new Map();
    removed = [];
    unreachable = new Set();
  });

  it('records the identity in the claim and on the host; a retry of the run finds it as created, a redeploy as found', async () => {
    const vm = await provider('mine').provision(request('shop-1', 'run-1'));
    expect(vm).toMatchObject({ id: '10.0.0.1:22', created: true, labels: { 'kamal-dev.project': 'mine' } });
    expect(readState(stateFile).ssh_claims).toEqual({ '10.0.0.1:22': { name: 'shop-1', project: 'mine', created_by: 'run-1' } });
    expect(markers.get('10.0.0.1:22')).toEqual(marker('mine', 'shop-1', 'run-1'));
    expect((await provider('mine').provision(request('shop-1', 'run-1'))).created).toBe(true);
    expect((await provider('mine').provision(request('shop-1', 'run-2'))).created).toBe(false);
    expect(await provider('mine').destroy('shop-1', { createdBy: 'run-2' })).toBe('kept');
    expect(removed).toEqual([]);
    expect(await provider('mine').destroy('shop-1', { createdBy: 'run-1' })).toBe('destroyed');
    expect({ removed, markers: markers.size, claims: readState(stateFile).ssh_claims }).toEqual({ removed: ['10.0.0.1:22'], markers: 0, claims: {} });
  });

  it('never claims a host whose marker names another identity, and says so when none is left', async () => {
    markers.set('10.0.0.1:22', { project: 'theirs', name: 'shop-1' });
    expect((await provider('mine').provision(request('shop-1'))).id).toBe('10.0.0.2:22');
    await expect(provider('mine').provision(request('shop-2'))).rejects.toMatchObject({
      message: "every host in the ssh provider's list is already in use (2 hosts; 1 of them held by another kamal-dev project (their marker says so), left untouched)",
    });
    expect(markers.get('10.0.0.1:22')).toEqual({ project: 'theirs', name: 'shop-1' });
    expect(Object.keys(readState(stateFile).ssh_claims)).toEqual(['10.0.0.2:22']);
  });

  it('refuses a claim of another identity or from before identities until adopted; then the host is this project\'s', async () => {
    await updateState(stateFile, (state) => void (state.ssh_claims['10.0.0.1:22'] = 'shop-1'));
    await expect(provider('mine').provision(request('shop-1'))).rejects.toMatchObject({ message: expect.stringMatching(/^VM shop-1 was made before kamal-dev recorded project identities/) });
    await expect(provider('mine').destroy('shop-1')).rejects.toMatchObject({ kind: 'provider' });
    expect(await provider('mine').destroy('shop-1', { createdBy: 'run-1' })).toBe('kept');
    expect(await provider('mine').list({})).toEqual([]);

    expect((await provider('mine').adopt('shop-1')).id).toBe('10.0.0.1:22');
    expect(markers.get('10.0.0.1:22')).toEqual({ project: 'mine', name: 'shop-1', labels: {} });
    expect((await provider('mine').list({})).map((vm) => vm.name)).toEqual(['shop-1']);
    // Another checkout with its own state file finds the host by its marker, takes it, and the first loses it.
    const elsewhere = stateFile;
    stateFile = join(mkdtempSync(join(tmpdir(), 'kamal-dev-ssh-provider-')), 'dev_state.yml');
    await provider('theirs').adopt('shop-1');
    stateFile = elsewhere;
    await expect(provider('mine').stop('shop-1')).rejects.toMatchObject({ message: expect.stringMatching(/belongs to another kamal-dev project \(kamal-dev.project=theirs\)/) });
    await expect(provider('mine').adopt('shop-9')).rejects.toMatchObject({ kind: 'config', message: 'no kamal-dev VM named shop-9 exists' });
  });

  it('on a worker without the state file: the markers alone claim, find, list and give back, and no host is claimed twice', async () => {
    const [one, two] = await Promise.all([elsewhere('mine').provision(request('shop-1', 'run-1')), elsewhere('mine').provision(request('shop-2', 'run-2'))]);
    expect(new Set([one.id, two.id]).size).toBe(2);
    expect({ one: one.created, two: two.created }).toEqual({ one: true, two: true });
    // The redeploy's worker finds each VM on its host, whatever order the hosts are asked in.
    expect(await elsewhere('mine').provision(request('shop-2', 'run-3'))).toMatchObject({ id: two.id, created: false });
    expect((await provider('mine').list({ 'kamal-dev.deployment': 'shop' })).map((vm) => vm.name).sort()).toEqual(['shop-1', 'shop-2']);
    await expect(elsewhere('mine').provision(request('shop-3'))).rejects.toMatchObject({ key: 'provider/hosts' });
    expect(await elsewhere('mine').destroy('shop-2', { createdBy: 'run-3' })).toBe('kept');
    expect(await elsewhere('mine').destroy('shop-2', { createdBy: 'run-2' })).toBe('destroyed');
    expect(await elsewhere('mine').destroy('shop-2', { createdBy: 'run-2' })).toBe('gone');
    expect([...markers.values()]).toEqual([marker('mine', 'shop-1', 'run-1')]);
  });

  it('a marker from before labels is listed with the state file\'s labels and rewritten with them by the next provision', async () => {
    markers.set('10.0.0.1:22', { project: 'mine', name: 'shop-1' });
    await updateState(stateFile, (state) => {
      state.ssh_claims['10.0.0.1:22'] = { name: 'shop-1', project: 'mine', created_by: 'run-0' };
      state.deployments['shop-1'] = { service: 'shop', index: 1 } as never;
    });
    expect((await provider('mine').list({ 'kamal-dev.deployment': 'shop' })).map((vm) => vm.name)).toEqual(['shop-1']);
    expect((await provider('mine').provision(request('shop-1', 'run-0'))).created).toBe(true);
    expect(markers.get('10.0.0.1:22')).toEqual(marker('mine', 'shop-1', 'run-0'));
  });

  it('lists a host that does not answer as unknown when the state file holds its claim', async () => {
    await provider('mine').provision(request('shop-1', 'run-1'));
    await updateState(stateFile, (state) => void (state.deployments['shop-1'] = { service: 'shop', index: 1 } as never));
    unreachable.add('10.0.0.1:22');
    expect((await provider('mine').list({ 'kamal-dev.deployment': 'shop' })).map((vm) => [vm.name, vm.status])).toEqual([['shop-1', 'unknown']]);
    expect(await elsewhere('mine').list({})).toEqual([]);
  });

  it('a claim in the state file whose marker is gone (removed by a worker elsewhere) does not hold the host', async () => {
    await updateState(stateFile, (state) => void (state.ssh_claims['10.0.0.1:22'] = { name: 'shop-9', project: 'mine' }));
    expect((await provider('mine').provision(request('shop-1', 'run-1'))).id).toBe('10.0.0.1:22');
  });
});
