import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostMarker, HostStack, SshProvider } from '../../src/providers/ssh';
import type { VmInstance } from '../../src/providers/types';
import { readState, updateState } from '../../src/state/devState';

/** The ssh provider's claim rules over two hosts; the markers live in memory (vm-deploy.test.ts has them on a real host). */
describe('ssh provider: claims and host markers', () => {
  const hosts = [{ host: '10.0.0.1' }, { host: '10.0.0.2' }];
  let stateFile: string;
  let markers: Map<string, HostMarker>;
  let removed: string[];
  const stack: HostStack = {
    remove: async (vm: VmInstance) => void removed.push(vm.id),
    stop: async () => undefined,
    start: async () => undefined,
    readMarker: async (vm) => markers.get(vm.id),
    writeMarker: async (vm, marker) => void markers.set(vm.id, marker),
    removeMarker: async (vm) => void markers.delete(vm.id),
  };
  const provider = (identity: string) => new SshProvider({ hosts, stateFile, defaultUser: 'root', defaultPort: 22, hostStack: stack, identity });
  const request = (name: string, createdBy?: string) => ({ name, labels: {}, createdBy, sshPublicKey: 'k' });

  beforeEach(() => {
    stateFile = join(mkdtempSync(join(tmpdir(), 'kamal-dev-ssh-provider-')), 'dev_state.yml');
    markers = new Map();
    removed = [];
  });

  it('records the identity in the claim and on the host; a retry of the run finds it as created, a redeploy as found', async () => {
    const vm = await provider('mine').provision(request('shop-1', 'run-1'));
    expect(vm).toMatchObject({ id: '10.0.0.1:22', created: true, labels: { 'kamal-dev.project': 'mine' } });
    expect(readState(stateFile).ssh_claims).toEqual({ '10.0.0.1:22': { name: 'shop-1', project: 'mine', created_by: 'run-1' } });
    expect(markers.get('10.0.0.1:22')).toEqual({ project: 'mine', name: 'shop-1' });
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
    expect(markers.get('10.0.0.1:22')).toEqual({ project: 'mine', name: 'shop-1' });
    expect((await provider('mine').list({})).map((vm) => vm.name)).toEqual(['shop-1']);
    // Another checkout with its own state file finds the host by its marker, takes it, and the first loses it.
    const elsewhere = stateFile;
    stateFile = join(mkdtempSync(join(tmpdir(), 'kamal-dev-ssh-provider-')), 'dev_state.yml');
    await provider('theirs').adopt('shop-1');
    stateFile = elsewhere;
    await expect(provider('mine').stop('shop-1')).rejects.toMatchObject({ message: expect.stringMatching(/belongs to another kamal-dev project \(kamal-dev.project=theirs\)/) });
    await expect(provider('mine').adopt('shop-9')).rejects.toMatchObject({ kind: 'config', message: 'no kamal-dev VM named shop-9 exists' });
  });
});
