import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sh, succeeds } from '../lab/exec';
import { describeWithLab } from '../support/lab';
import { vmContainers } from '../support/kamal-dev';
import {
  activityAttempts,
  faultDeployment,
  faultProject,
  faultService,
  labEnv,
  stackServices,
  startCli,
  stepRunning,
  summaryOf,
  temporalSection,
  waitFor,
} from '../support/faults';

jest.setTimeout(300_000);

const COMPOSE = readFileSync(join(__dirname, '..', '..', 'examples', 'rails', '.devcontainer', 'compose.yaml'), 'utf8');
const LAB_PARTS = ['docker', 'baseImage', 'localRegistry', 'postgres', 'temporal', 'vmImage'];

/** Faults on the VMs themselves: a stack that cannot start on one of three, a dropped SSH connection. */
describeWithLab(LAB_PARTS, 'fault: compose up fails on one of three VMs', () => {
  const SERVICE = faultService('flt-up');
  const run = faultDeployment(SERVICE, () => {
    // The app publishes a port on each VM's loopback, as a dev server would.
    const compose = COMPOSE.replace('    command: sleep infinity\n', '    command: sleep infinity\n    ports:\n      - "127.0.0.1:3000:3000"\n');
    expect(compose).not.toBe(COMPOSE);
    return faultProject(SERVICE, temporalSection(SERVICE, '    long: {heartbeat: 30s, maximum_attempts: 2, initial_interval: 500ms}'), {
      '.devcontainer/compose.yaml': compose,
    });
  });

  it('reports that VM failed and destroys it; the other two are deployed, kept and healthy (exit 1)', async () => {
    const cli = (run.cli = startCli(['deploy', '--count', '3', '--json'], run.dir, labEnv()));
    // Another program on VM 2 already listens on the port the stack publishes there.
    const vm2 = `${SERVICE}-2`;
    expect(await waitFor(() => succeeds(['docker', 'exec', vm2, 'true']), 120_000, 250)).toBe(true);
    const occupy = 'my $socket = IO::Socket::INET->new(LocalAddr => "127.0.0.1:3000", Listen => 1, ReuseAddr => 1) or die $!; sleep 3600';
    await sh(['docker', 'exec', '-d', vm2, 'perl', '-MIO::Socket::INET', '-e', occupy]);

    const result = await cli.done;
    expect(result.code).toBe(1);
    const summary = summaryOf(result);
    expect(summary.outcome).toBe('partial');
    expect(summary.vms.map((vm) => [vm.name, vm.state])).toEqual([
      [`${SERVICE}-1`, 'deployed'],
      [vm2, 'failed'],
      [`${SERVICE}-3`, 'deployed'],
    ]);
    expect(summary.vms[1].error).toMatch(new RegExp(`^docker compose up failed on ${vm2}: .*127\\.0\\.0\\.1:3000`));
    expect(await vmContainers(SERVICE)).toEqual([`${SERVICE}-1`, `${SERVICE}-3`]);
    for (const vm of [`${SERVICE}-1`, `${SERVICE}-3`]) expect(await stackServices(vm, SERVICE)).toEqual(['app running', 'db running healthy']);
  });
});

describeWithLab(LAB_PARTS, 'fault: SSH connection dropped while the workspace is seeded', () => {
  const SERVICE = faultService('flt-ssh');
  const run = faultDeployment(SERVICE, () => {
    const dir = faultProject(SERVICE, temporalSection(SERVICE, '    quick: {initial_interval: 500ms}'));
    // A workspace big enough that the seed is still being pulled or unpacked when the connection drops.
    writeFileSync(join(dir, 'fault-workspace.bin'), randomBytes(64 << 20));
    return dir;
  });

  it('retries the seed on a new connection and completes the deploy', async () => {
    const cli = (run.cli = startCli(['deploy', '--count', '1', '--json'], run.dir, labEnv()));
    const id = await cli.workflowId;
    const vm = `${SERVICE}-1`;
    expect(await waitFor(() => stepRunning(run.client, id, 'seedWorkspace'), 180_000, 100)).toBe(true);
    // sshd's per-connection processes ("sshd: root@notty"): the connection drops, the daemon stays.
    await sh(['docker', 'exec', vm, 'pkill', '-f', 'sshd: root']);

    const result = await cli.done;
    expect({ code: result.code, stderr: result.stderr.slice(-2000) }).toMatchObject({ code: 0 });
    expect(summaryOf(result).outcome).toBe('deployed');
    const attempts = await activityAttempts(run.client, `${id}/vm/${vm}`);
    expect(attempts.seedWorkspace).toBeGreaterThan(1);
    expect(await vmContainers(SERVICE)).toEqual([vm]);
    expect(await stackServices(vm, SERVICE)).toEqual(['app running', 'db running healthy']);
    // The retried seed left one complete copy of the workspace.
    const size = await sh(['docker', 'exec', vm, 'sh', '-c', `stat -c %s /opt/kamal-dev/${SERVICE}/workspaces/*/fault-workspace.bin`]);
    expect(Number(size)).toBe(64 << 20);
  });
});
