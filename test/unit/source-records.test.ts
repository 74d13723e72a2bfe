import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmHandle } from '../../src/activities/types';
import { recordDeployOnSource, recordLifecycleOnSource } from '../../src/client/sourceRecords';
import { knownHostsFile } from '../../src/ssh/knownHosts';
import { readState, stateFilePath } from '../../src/state/devState';

const handle = (name: string, provider: string, port: number): VmHandle => ({
  deployment: 'shop', name, index: port - 2200, id: `id-${name}`, provider, ssh: { host: '127.0.0.1', port, user: 'root' }, ip: '127.0.0.1', hostKey: `ssh-ed25519 ${name}-key`,
});

describe("the source machine's .kamal/ from workflow results", () => {
  let dir: string;
  const vms = [handle('shop-1', 'upcloud', 2201), handle('shop-2', 'upcloud', 2202), handle('shop-3', 'ssh', 2203)];
  const hostLines = () => readFileSync(knownHostsFile({ projectDir: dir }), 'utf8').split('\n').filter(Boolean);
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kamal-dev-source-records-'));
    await recordDeployOnSource(dir, 'id-1', { service: 'shop', vms: vms.map((vm) => ({ name: vm.name, workflowId: `d/vm/${vm.name}`, state: 'deployed' as const, steps: [], vm })) });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('stop and start: the VMs that were done change status (and a start its containers); failed ones stay as they were', async () => {
    await recordLifecycleOnSource(dir, 'stop', { service: 'shop', vms: [{ name: 'shop-1', state: 'done' }, { name: 'shop-2', state: 'failed', error: 'x' }] });
    expect(Object.values(readState(stateFilePath(dir)).deployments).map((d) => d.status)).toEqual(['stopped', 'running', 'running']);
    const containers = [{ service: 'app', name: 'shop-app-1', state: 'running', health: 'healthy', ports: ['3000'] }];
    await recordLifecycleOnSource(dir, 'start', { service: 'shop', vms: [{ name: 'shop-1', state: 'done', containers }] });
    expect(readState(stateFilePath(dir)).deployments['shop-1']).toMatchObject({ status: 'running', containers: [{ service: 'app', name: 'shop-app-1', state: 'running', health: 'healthy' }] });
  });

  it('remove: the removed VMs leave dev_state.yml, and their host keys known_hosts, but an existing host (provider ssh) keeps its key', async () => {
    expect(hostLines()).toHaveLength(3);
    const done = (vm: VmHandle) => ({ name: vm.name, state: 'done' as const, vm });
    await recordLifecycleOnSource(dir, 'remove', { service: 'shop', vms: [done(vms[0]), done(vms[2]), { name: 'shop-2', state: 'failed', vm: vms[1] }] });
    expect(Object.keys(readState(stateFilePath(dir)).deployments)).toEqual(['shop-2']);
    expect(hostLines()).toEqual(['[127.0.0.1]:2202 ssh-ed25519 shop-2-key', '[127.0.0.1]:2203 ssh-ed25519 shop-3-key']);
  });
});
