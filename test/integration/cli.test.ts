import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { startDeploy } from '../../src/client/deploy';
import { sourceTaskQueue } from '../../src/client/queues';
import { main } from '../../src/cli/main';
import type { CliDeps } from '../../src/cli/deps';
import { fakePlan, fakePlanner } from '../support/fakePlan';
import type { DeployPlan } from '../../src/spec/plan';
import type { DeploySummary } from '../../src/workflows/types';
import { createWorker } from '../../src/worker';
import { otherWorkers } from '../../src/cli/detach';
import { KamalDevError } from '../../src/errors';
import { done, fakeActivities, type FakeOptions } from '../support/fakeActivities';
import { expectJson } from '../support/json-shapes';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, type Harness, testIdentity, workflowBundle } from '../support/temporalHarness';

jest.setTimeout(120_000);

function capture() {
  let text = '';
  return { stream: { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream, text: () => text };
}

describeWithLab(['temporal'], 'kamal-dev deploy / cancel with an in-process worker and fake activities', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectLab();
  });
  afterAll(() => h?.close());

  /** One CLI "machine": its own project folder and fakes; `identity` stands for a project checkout's. */
  function cli(fake: FakeOptions = {}, identity?: string, planned: Partial<DeployPlan> = {}) {
    const projectDir = mkdtempSync(join(tmpdir(), 'kamal-dev-cli-'));
    const { activities, calls } = fakeActivities({ ...fake, plan: (i) => fakePlan(i, planned) });
    const out = capture();
    const err = capture();
    const shared = queues('cli').shared;
    const deps: CliDeps = {
      activities: () => activities,
      // The fake plan's identity comes from its project folder; tests that share a project pass one.
      plan: async (options) => ({ ...(await fakePlanner(options)), ...planned, ...(identity ? { identity } : {}) }),
      env: { TEMPORAL_ADDRESS: h.address, KAMAL_DEV_TASK_QUEUE: shared },
      stdout: out.stream,
      stderr: err.stream,
      stdin: Object.assign(process.stdin, { isTTY: false }),
      pollIntervalMs: 200,
    };
    const run = (...args: string[]) => main(['node', 'kamal-dev', '-C', projectDir, ...args], deps);
    return { run, calls, out, err, projectDir, shared, planned };
  }

  it('deploy --count 2 --json prints the summary and exits 0', async () => {
    const c = cli();
    expect(await c.run('--json', 'deploy', '--count', '2')).toBe(0);
    const summary = expectJson('deploy', c.out.text());
    expect(summary).toMatchObject({ outcome: 'deployed', service: 'wftest' });
    expect(summary.vms).toHaveLength(2);
    expect(c.err.text()).toMatch(/started deploy-kamal-dev-cli-\S+: http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/deploy-/);
  });

  it('deploy prints live progress and a table of every VM and container; a failed VM makes it exit 1', async () => {
    const fail: FakeOptions['fail'] = (step, vm) => (step === 'verifyStack' && vm === 'wftest-2' ? ApplicationFailure.nonRetryable('app: unhealthy', 'KamalDevError.compose') : undefined);
    const c = cli({ fail, delay: () => 100 });
    expect(await c.run('deploy', '--count', '2')).toBe(1);
    expect(c.out.text()).toMatch(/wftest-1 .*deployed.*wftest-app-1.*running.*healthy/);
    expect(c.out.text()).toMatch(/wftest-2 .*failed.*app: unhealthy/);
    expect(c.err.text()).toMatch(/✔ planDeploy/);
    expect(c.err.text()).toMatch(/wftest-2\s+failed/);
    expect(done(c.calls, 'destroyVm')).toEqual(['wftest-2']);
  });

  it('a config error in the build exits 2 with the message', async () => {
    const fail: FakeOptions['fail'] = (step) => (step === 'buildImages' ? new KamalDevError('config', 'build arg NODE_VERSION is empty', { file: 'config/dev.yml', key: 'build.args' }) : undefined);
    const c = cli({ fail });
    expect(await c.run('deploy')).toBe(2);
    expect(c.err.text()).toMatch(/error: deploy \S+ failed: config\/dev.yml: build.args: build arg NODE_VERSION is empty/);
  });

  it('deploy --attach picks up a deploy no worker ran yet (resume) and follows it to the end', async () => {
    const c = cli();
    const handle = await startDeploy(h.client, { projectDir: c.projectDir, count: 2, skipBuild: false, skipPush: false }, { sharedQueue: c.shared, sourceQueue: sourceTaskQueue(c.projectDir), identity: testIdentity('cli') });
    expect(await c.run('deploy', '--attach', handle.workflowId)).toBe(0);
    expect(c.err.text()).toContain(`resuming 1 open workflow(s) while this command runs: ${handle.workflowId}`);
    expect(c.err.text()).toContain(`following ${handle.workflowId}`);
    expect(done(c.calls, 'verifyStack')).toHaveLength(2);
  });

  it('cancel ID cancels a running deploy and runs its compensations', async () => {
    const c = cli({ delay: (step) => (step === 'bootstrapVm' ? 5000 : 50) });
    const handle = await startDeploy(h.client, { projectDir: c.projectDir, count: 2, skipBuild: false, skipPush: false }, { sharedQueue: c.shared, sourceQueue: sourceTaskQueue(c.projectDir), identity: testIdentity('cli') });
    const deploying = c.run('deploy', '--attach', handle.workflowId);
    while (c.calls.filter((x) => x.step === 'bootstrapVm').length < 2) await new Promise((r) => setTimeout(r, 100));
    const canceller = cli();
    canceller.projectDir = c.projectDir;
    expect(await main(['node', 'kamal-dev', '-C', c.projectDir, 'cancel', handle.workflowId], {
      activities: () => fakeActivities().activities,
      plan: fakePlanner,
      env: { TEMPORAL_ADDRESS: h.address, KAMAL_DEV_TASK_QUEUE: c.shared },
      stderr: canceller.err.stream,
    })).toBe(0);
    expect(canceller.err.text()).toContain(`${handle.workflowId} cancelled: removed wftest-1, wftest-2 (created by this run); kept no VM`);
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await deploying).toBe(1);
    } finally {
      spy.mockRestore();
    }
    const destroyed = [...done(c.calls, 'destroyVm'), ...done(canceller.calls, 'destroyVm')].sort();
    expect(destroyed).toEqual(['wftest-1', 'wftest-2']);
  });

  /** What main() reports as an error goes to process.stderr: captured for the duration of `body`. */
  async function reported<T>(body: () => Promise<T>): Promise<{ result: T; text: string }> {
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const result = await body();
      return { result, text: spy.mock.calls.map((x) => String(x[0])).join('') };
    } finally {
      spy.mockRestore();
    }
  }

  const refusedBy = (text: string, what: string) => {
    const started = [...text.matchAll(/started (deploy-kamal-dev-cli-\S+):/g)].map((m) => m[1]);
    const holder = new RegExp(`error: ${what} refused: (\\S+) \\(deploy, started `).exec(text)?.[1];
    expect(started).toContain(holder);
    expect(text).toContain(`follow it: kamal-dev deploy --attach ${holder}`);
    expect(text).toContain(`cancel it: kamal-dev cancel ${holder}`);
  };

  it('two deploys started at once on one project: one runs, the other is refused (exit 1) naming it', async () => {
    const c = cli({ delay: () => 100 });
    const { result: codes, text } = await reported(() => Promise.all([c.run('deploy'), c.run('deploy')]));
    expect(codes.sort()).toEqual([0, 1]);
    refusedBy(c.err.text() + text, 'deploy');
    expect(done(c.calls, 'planDeploy')).toHaveLength(1);
  });

  it('remove --all during a deploy is refused the same way; the deploy goes on', async () => {
    const c = cli({ delay: (step) => (step === 'bootstrapVm' ? 2000 : 50) });
    const deploying = c.run('deploy', '--count', '2');
    while (!c.calls.some((x) => x.step === 'bootstrapVm')) await new Promise((r) => setTimeout(r, 50));
    const { result: code, text } = await reported(() => c.run('remove', '--all', '--force'));
    expect(code).toBe(1);
    refusedBy(c.err.text() + text, 'remove');
    expect(c.calls.filter((x) => x.step === 'removeStack' || x.step === 'listVms')).toEqual([]);
    expect(await deploying).toBe(0);
  });

  it('a deploy with no VM deployed shows the same per-VM table and exits 1', async () => {
    const fail: FakeOptions['fail'] = (step) => (step === 'verifyStack' ? ApplicationFailure.nonRetryable('app: unhealthy', 'KamalDevError.compose') : undefined);
    const c = cli({ fail });
    expect(await c.run('deploy', '--count', '2')).toBe(1);
    expect(c.out.text()).toMatch(/wftest-1 .*failed.*app: unhealthy/);
    expect(c.out.text()).toMatch(/wftest-2 .*failed.*app: unhealthy/);
  });

  it('a VM whose compose up failed on an unhealthy dependency shows that container\'s last log lines, in the table and in --json', async () => {
    const message = 'docker compose up failed on wftest-2: dependency failed to start: container wftest-db-1 is unhealthy\nlast log lines of wftest-db-1:\n  FATAL:  role "app" does not exist';
    const fail: FakeOptions['fail'] = (step, vm) => (step === 'composeUp' && vm === 'wftest-2' ? ApplicationFailure.nonRetryable(message, 'StackUnhealthy') : undefined);
    // A first deploy: no previous stack to roll back to.
    const fresh: FakeOptions = { fail, createdVms: ['wftest-1', 'wftest-2'] };
    const text = cli(fresh);
    expect(await text.run('deploy', '--count', '2')).toBe(1);
    expect(text.out.text()).toContain('FATAL:  role "app" does not exist');
    expect(text.err.text()).toMatch(/wftest-2 +failed.*container wftest-db-1 is unhealthy\nlast log lines of wftest-db-1:\n {2}FATAL/);
    const json = cli(fresh);
    expect(await json.run('--json', 'deploy', '--count', '2')).toBe(1);
    const { vms } = expectJson('deploy', json.out.text()) as { vms: { name: string; error?: string }[] };
    expect(vms.find((vm) => vm.name === 'wftest-2')?.error).toBe(message);
    expect(done(json.calls, 'composeUp')).toEqual(['wftest-1']);
  });

  it('deploys --json lists a running and a finished deploy of this project, newest first; cancel takes the running one without an id', async () => {
    const identity = `cli${Date.now().toString(36)}${process.pid}`;
    const finished = cli({}, identity);
    expect(await finished.run('--json', 'deploy', '--count', '1')).toBe(0);
    const finishedId = expectJson('deploy', finished.out.text()).workflowId;

    const running = cli({ delay: (step) => (step === 'bootstrapVm' ? 8000 : 50) }, identity);
    const deploying = running.run('deploy', '--count', '2');
    while (running.calls.filter((x) => x.step === 'bootstrapVm').length < 2) await new Promise((r) => setTimeout(r, 100));

    const other = cli({}, `${identity}other`);
    expect(await other.run('--json', 'deploys')).toBe(0);
    expect(expectJson('deploys', other.out.text()).deploys).toEqual([]);

    const looker = cli({}, identity);
    expect(await looker.run('--json', 'deploys')).toBe(0);
    const { deploys } = expectJson('deploys', looker.out.text()) as { deploys: { workflowId: string; state: string; closedAt: string | null; vms: object; webUi: string }[] };
    expect(deploys.map((d) => [d.state, d.vms])).toEqual([
      ['running', { deployed: 0, total: 2 }],
      ['completed', { deployed: 1, total: 1 }],
    ]);
    expect(deploys[1].workflowId).toBe(finishedId);
    expect(deploys[0].closedAt).toBeNull();
    expect(deploys[0].webUi).toContain(encodeURIComponent(deploys[0].workflowId));

    const canceller = cli({}, identity);
    canceller.projectDir = running.projectDir;
    expect(await canceller.run('--json', 'cancel')).toBe(0);
    expect(expectJson('cancel', canceller.out.text())).toMatchObject({ outcome: 'cancelled', workflowId: deploys[0].workflowId, message: expect.stringMatching(/^cancelled/) });
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await deploying).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(await looker.run('--json', 'cancel')).toBe(2);
    expect(expectJson('cancel', looker.out.text().split('\n').filter(Boolean).at(-1)!)).toMatchObject({ kind: 'config', message: 'no deploy of this project is running' });
  });

  it('cancel and deploy --attach of an unknown id are bad input (exit 2)', async () => {
    const c = cli();
    expect(await c.run('--json', 'cancel', 'deploy-no-such-workflow')).toBe(2);
    expect(expectJson('cancel', c.out.text())).toMatchObject({ outcome: 'error', kind: 'config', message: 'no workflow deploy-no-such-workflow' });
    const attach = cli();
    expect(await attach.run('--json', 'deploy', '--attach', 'deploy-no-such-workflow')).toBe(2);
    expect(expectJson('deploy', attach.out.text())).toMatchObject({ outcome: 'error', kind: 'config', message: 'no workflow deploy-no-such-workflow' });
  });

  // VMs on existing hosts, and a workspace: what a deploy that may leave the laptop looks like.
  const remote: Partial<DeployPlan> = {
    provider: { type: 'ssh', hosts: [{ host: 'dev1.example.com' }, { host: 'dev2.example.com' }] },
    stack: { ...fakePlan({ projectDir: '/x', skipBuild: false, skipPush: false }).stack, workspace: { source: '/x', target: 'workspaces/x', exclude: [] } },
  };

  it('deploy --detach returns (exit 0) once build, push and seed are done; another machine\'s worker finishes the deploy', async () => {
    let detached = false;
    // composeUp waits for the CLI to have returned, so the deploy is still running when it does
    // (and it runs on the other worker: a detaching CLI polls only its source queue).
    const gate = (step: string) => step !== 'composeUp' || detached;
    const c = cli({ gate }, undefined, remote);
    const other = await createWorker({
      connection: h.native,
      taskQueues: { shared: c.shared },
      activities: fakeActivities({ gate, plan: (i) => fakePlan(i, remote) }).activities,
      workflowCode: { workflowBundle: await workflowBundle() },
      identity: 'worker@another-machine',
      shutdownGraceTime: '1s',
    });
    const running = other.run();
    try {
      // The CLI asks the server who polls the shared queue: the other worker must have polled once.
      for (const until = Date.now() + 20_000; Date.now() < until && (await otherWorkers(h.client, 'default', c.shared)).length === 0; ) await new Promise((r) => setTimeout(r, 200));
      expect(await c.run('--json', 'deploy', '--count', '2', '--detach')).toBe(0);
      detached = true;
      const document = expectJson('deploy', c.out.text()) as { outcome: string; workflowId: string; webUi: string; attach: string };
      expect(document).toMatchObject({ outcome: 'detached', attach: `kamal-dev deploy --attach ${document.workflowId}` });
      expect(document.webUi).toMatch(/^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/deploy-/);
      expect(c.err.text()).toContain('--detach: this command returns once the images and the workspace seed are pushed');
      expect(done(c.calls, 'pushWorkspaceSeed')).toHaveLength(1);
      expect(c.calls.filter((call) => call.vm)).toEqual([]);
      const summary: DeploySummary = await h.client.workflow.getHandle(document.workflowId).result();
      expect(summary.outcome).toBe('deployed');
    } finally {
      other.shutdown();
      await running;
    }
  });

  it('deploy --detach with nothing else to run the deploy, or with local VMs, follows it to the end and says why', async () => {
    const alone = cli({}, undefined, remote);
    expect(await alone.run('deploy', '--detach')).toBe(0);
    expect(alone.err.text()).toContain(`--detach: no other worker polls ${alone.shared}, so this command's own worker runs the deploy: following it to the end`);
    expect(alone.out.text()).toMatch(/wftest-1 .*deployed/);

    const local = cli();
    expect(await local.run('--json', 'deploy', '--detach')).toBe(0);
    expect(local.err.text()).toContain('--detach: this command returns only when it ends: its VMs are local (provider docker)');
    expect(expectJson('deploy', local.out.text())).toMatchObject({ outcome: 'deployed' });
  });

  it('stop, start and remove --json print the lifecycle summary', async () => {
    for (const command of ['stop', 'start', 'remove'] as const) {
      const c = cli();
      expect(await c.run('--json', command, '--all', ...(command === 'remove' ? ['--force'] : []))).toBe(0);
      expect(expectJson(command, c.out.text())).toMatchObject({ outcome: 'ok', service: 'wftest' });
    }
  });
});
