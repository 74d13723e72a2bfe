import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithLab, labInfo } from '../support/lab';
import { kamalDev, removeDeploymentLeftovers, vmContainers } from '../support/kamal-dev';
import { faultService, labEnv, writeFiles } from '../support/faults';
import { UpcloudFake } from '../support/upcloud-fake';
import { LabMachines } from '../support/upcloud-machines';

jest.setTimeout(12 * 60_000);

const SERVICE = faultService('flt-upc-key');

/**
 * A new cloud server runs sshd before cloud-init has installed the deploy's key. The UpCloud fake
 * backs its server with a real lab VM that refuses the key for the first 60 s: waitForSsh tries
 * again within its grace (3 minutes) and the deploy goes on to a healthy stack, behind the server's
 * firewall (SSH only).
 */
describeWithLab(['localRegistry', 'postgres', 'temporal', 'vmImage'], 'fault: a new UpCloud server refuses the key at first', () => {
  let fake: UpcloudFake;
  let dir: string;

  afterAll(async () => {
    await fake?.close();
    await removeDeploymentLeftovers(SERVICE);
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys once the key is accepted, and remove leaves no server and no machine', async () => {
    fake = await UpcloudFake.start();
    dir = mkdtempSync(join(tmpdir(), `kamal-dev-e2e-${SERVICE}-`));
    const local = labInfo<{ address: string }>('localRegistry');
    writeFiles(dir, {
      '.devcontainer/devcontainer.json': `{"image": "${local.address}/lab/postgres:15", "overrideCommand": true}`,
      'config/dev.yml': [
        `service: ${SERVICE}`,
        `provider: {type: upcloud, zone: de-fra1, plan: 1xCPU-1GB, api_url: "${fake.url}"}`,
        'ssh: {key_path: .kamal/upcloud_key}',
        `temporal: {task_queue: ${SERVICE}-queue}`,
      ].join('\n'),
      '.kamal/secrets': `UPCLOUD_USERNAME=${fake.username}\nUPCLOUD_PASSWORD=${fake.password}\n`,
    });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, '.kamal', 'upcloud_key')]);
    const machines = new LabMachines({ keyAfterMs: 60_000, privateKeyPath: join(dir, '.kamal', 'upcloud_key') });
    fake.machines = machines;

    const result = await kamalDev(['deploy', '--json'], { cwd: dir, env: labEnv(), timeoutMs: 9 * 60_000 });
    await Promise.all(machines.started);

    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { outcome: string; vms: { state: string; containers?: { state: string }[] }[] };
    expect(summary.outcome).toBe('deployed');
    expect(summary.vms[0].containers?.map((c) => c.state)).toEqual(['running']);
    expect(machines.refusalSeen).toBe(true);
    expect(fake.requests.filter((r) => r === 'POST /server')).toHaveLength(1);
    expect(fake.requests.some((r) => r.startsWith('DELETE '))).toBe(false);
    // The deploy's server got its firewall: of fixed ports only SSH is open (no public_ports here).
    const [server] = fake.servers.values();
    expect(server.firewall).toBe('on');
    expect(server.firewallRules.filter((r) => r.action === 'accept' && r.protocol === 'tcp').map((r) => r.destination_port_start)).toEqual(['22', '32768']);
    expect(server.firewallRules.at(-1)).toMatchObject({ direction: 'in', action: 'drop' });

    const removed = await kamalDev(['remove', '--all', '--force'], { cwd: dir, env: labEnv() });
    expect(removed.code).toBe(0);
    expect(fake.servers.size).toBe(0);
    expect(await vmContainers(SERVICE)).toEqual([]);
  });
});
