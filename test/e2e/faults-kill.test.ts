import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { describeWithLab } from '../support/lab';
import { vmContainers } from '../support/kamal-dev';
import {
  activityAttempts,
  faultDeployment,
  faultProject,
  faultService,
  killCli,
  labEnv,
  liveActivities,
  stackServices,
  startCli,
  summaryOf,
  temporalSection,
  waitFor,
} from '../support/faults';

jest.setTimeout(420_000);

const SERVICE = faultService('flt-kill');
// In the order a deploy reaches them: the VMs are made ready while the image builds (src/workflows/images.ts).
// seedWorkspace, not uploadStack, carries the workspace to the VM (from the registry's seed image).
const STEPS = ['provisionVm', 'bootstrapVm', 'seedWorkspace', 'buildImages', 'pushImages', 'composeUp'];
const DOCKERFILE = readFileSync(join(__dirname, '..', '..', 'examples', 'rails', '.devcontainer', 'Dockerfile'), 'utf8');

/**
 * One deploy of 2 VMs whose worker (the CLI process that hosts it) is killed with SIGKILL once in each
 * of six steps and started again with `deploy --attach`. Timeouts are short through
 * `temporal.timeouts`, so a dead worker's step is retried within seconds; the build gets a slow,
 * never-cached step and a 24 MB layer so build and push last long enough to be caught.
 */
describeWithLab(['docker', 'baseImage', 'localRegistry', 'postgres', 'temporal', 'vmImage'], 'fault: worker killed at every step', () => {
  const run = faultDeployment(SERVICE, () => {
    const slowStep = `RUN echo ${randomBytes(8).toString('hex')} >/etc/fault-nonce && sleep 6 && head -c 24000000 /dev/urandom >/opt/fault-layer\n`;
    const dir = faultProject(
      SERVICE,
      temporalSection(
        SERVICE,
        [
          '    quick: {start_to_close: 20s, initial_interval: 500ms}',
          // One kill may hit a step that an earlier kill hit too (steps overlap): more attempts than the default 3.
          '    long: {heartbeat: 10s, initial_interval: 500ms, maximum_attempts: 6}',
          '    provision: {start_to_close: 10s, initial_interval: 500ms}',
        ].join('\n'),
      ),
      { '.devcontainer/Dockerfile': DOCKERFILE + slowStep },
    );
    // Something to seed for a while: the workspace is unpacked on every VM.
    writeFileSync(join(dir, 'fault-workspace.bin'), randomBytes(16 << 20));
    return dir;
  });

  it('completes with exactly 2 healthy VMs after a SIGKILL in each of 6 steps', async () => {
    const env = labEnv();
    const t0 = Date.now();
    const timings: string[] = [];
    vmCreatedWatch = watchVmCreate(SERVICE); // the VMs are made right after the plan
    let cliStarted = new Date();
    let cli = (run.cli = startCli(['deploy', '--count', '2', '--json'], run.dir, env));
    const id = await cli.workflowId;
    const live = async () => (await liveActivities(run.client, id, cliStarted)).filter((step) => STEPS.includes(step));

    // The VMs are made ready while the image builds, so one kill can hit several steps at once: each
    // kill strikes whatever a live worker runs then, until every step has been struck once.
    const struck = new Set<string>();
    while (struck.size < STEPS.length) {
      const left = STEPS.filter((step) => !struck.has(step));
      // provisionVm lasts well under a second: the VM container's creation is the moment to strike.
      const caught = left.includes('provisionVm')
        ? await vmCreated(SERVICE, 120_000)
        : await waitFor(async () => (await live()).some((step) => left.includes(step)), 180_000, 100);
      if (!caught) throw new Error(`none of ${left.join(', ')} was seen running; so far: ${timings.join('; ')}`);
      // Strike the build once it is under way, not while buildx is still starting up; but a
      // provision is over in a moment: it is struck at once (the build with it, on restart again).
      if (!left.includes('provisionVm') && left.includes('buildImages') && (await live()).includes('buildImages')) await new Promise((r) => setTimeout(r, 3000));
      if (cli.child.exitCode !== null) throw new Error(`kamal-dev exited before the kill of ${left.join(', ')}:\n${(await cli.done).stderr.slice(-3000)}`);
      // A build struck with the provision may not have got under way: it is struck again later.
      const hit = left.includes('provisionVm') ? ['provisionVm'] : await live();
      hit.forEach((step) => struck.add(step));
      timings.push(`${hit.join('+') || 'nothing'} killed at ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      process.stderr.write(`fault kill: ${timings.at(-1)}\n`);
      await killCli(cli);
      cliStarted = new Date();
      cli = run.cli = startCli(['deploy', '--attach', id, '--json'], run.dir, env);
    }
    const result = await cli.done;
    timings.push(`deployed at ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    process.stderr.write(`fault kill timeline: ${timings.join('; ')}\n`);

    expect({ code: result.code, stderr: result.stderr.slice(-2000) }).toMatchObject({ code: 0 });
    const summary = summaryOf(result);
    expect(summary.outcome).toBe('deployed');
    expect(summary.vms.map((vm) => [vm.name, vm.state])).toEqual([
      [`${SERVICE}-1`, 'deployed'],
      [`${SERVICE}-2`, 'deployed'],
    ]);
    expect(await vmContainers(SERVICE)).toEqual([`${SERVICE}-1`, `${SERVICE}-2`]);
    for (const vm of [`${SERVICE}-1`, `${SERVICE}-2`]) {
      expect(await stackServices(vm, SERVICE)).toEqual(['app running', 'db running healthy']);
    }

    // Each killed step really ran again: its activity has a second attempt in the history.
    const attempts = await mergedAttempts(run.client, id, summary.vms.map((vm) => vm.workflowId));
    process.stderr.write(`fault kill attempts: ${JSON.stringify(attempts)}\n`);
    for (const step of STEPS) expect({ step, retried: (attempts[step] ?? 0) > 1 }).toEqual({ step, retried: true });
  });
});

let vmCreatedWatch: Promise<boolean> | undefined;

/** Resolves when the first VM container of `service` is created (docker events), false after a while. */
function watchVmCreate(service: string, timeoutMs = 180_000): Promise<boolean> {
  const events = spawn('docker', ['events', '--filter', `label=kamal-dev.deployment=${service}`, '--filter', 'event=create', '--format', '{{.ID}}']);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(false), timeoutMs);
    const finish = (seen: boolean) => {
      clearTimeout(timer);
      events.kill();
      resolve(seen);
    };
    events.stdout.once('data', () => finish(true));
  });
}

function vmCreated(service: string, timeoutMs: number): Promise<boolean> {
  return vmCreatedWatch ?? watchVmCreate(service, timeoutMs);
}

async function mergedAttempts(client: Client, parent: string, children: string[]): Promise<Record<string, number>> {
  const merged: Record<string, number> = {};
  for (const attempts of await Promise.all([parent, ...children].map((id) => activityAttempts(client, id)))) {
    for (const [name, n] of Object.entries(attempts)) merged[name] = Math.max(merged[name] ?? 0, n);
  }
  return merged;
}
