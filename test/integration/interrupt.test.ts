import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { done, fakeActivities } from '../support/fakeActivities';
import { fakePlanner } from '../support/fakePlan';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, type Harness } from '../support/temporalHarness';

jest.setTimeout(120_000);

describeWithLab(['temporal'], 'Ctrl-C during kamal-dev deploy without a terminal', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectLab();
  });
  afterAll(() => h?.close());

  it('detaches, says how to re-attach, and deploy --attach then finishes the deploy', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'kamal-dev-interrupt-'));
    const shared = queues('interrupt').shared;
    const env = { TEMPORAL_ADDRESS: h.address, KAMAL_DEV_TASK_QUEUE: shared };
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'support', 'cliDeploy.ts'), projectDir, '--count', '2'], {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'], // stdin is a pipe, not a TTY: no question is asked
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const started = new Promise<string>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /started (deploy-\S+):/.exec(stderr);
        if (match && /provisionVm|waitForSsh/.test(stderr)) resolve(match[1]);
      }),
    );
    const workflowId = await started;
    child.kill('SIGINT');
    expect({ code: await exited, stderr }).toMatchObject({ code: 130 });
    expect(stderr).toContain(`detached; ${workflowId} goes on when a worker runs: kamal-dev deploy --attach ${workflowId}`);
    expect((await h.client.workflow.getHandle(workflowId).describe()).status.name).toBe('RUNNING');

    const { activities, calls } = fakeActivities();
    const out = { write: () => true } as unknown as NodeJS.WritableStream;
    const code = await main(['node', 'kamal-dev', '-C', projectDir, 'deploy', '--attach', workflowId], { activities: () => activities, plan: fakePlanner, env, stdout: out, stderr: out });
    expect(code).toBe(0);
    expect(done(calls, 'verifyStack')).toHaveLength(2);
  });
});

describeWithLab(['temporal'], 'Ctrl-C during kamal-dev deploy on a terminal', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectLab();
  });
  afterAll(() => h?.close());

  it('asks whether to cancel; yes cancels the deploy and its VMs are destroyed', async () => {
    const projectDir = mkdtempSync(join(tmpdir(), 'kamal-dev-tty-'));
    const shared = queues('tty').shared;
    // exec: without it the shell script(1) runs (/bin/sh when SHELL is unset) stays in the terminal's
    // foreground group, dies of the Ctrl-C itself, and script reports 130 whatever the CLI does.
    const command = ['exec', process.execPath, '-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'support', 'cliDeploy.ts'), projectDir, '--count', '2'].join(' ');
    // script(1) gives the CLI a pseudo-terminal; a 0x03 written to it is the Ctrl-C key.
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, TEMPORAL_ADDRESS: h.address, KAMAL_DEV_TASK_QUEUE: shared },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    const waitFor = (pattern: RegExp) =>
      new Promise<RegExpExecArray>((resolve) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) resolve(match);
          else setTimeout(check, 100);
        };
        check();
      });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    const [, workflowId] = await waitFor(/started (deploy-\S+):/);
    await waitFor(/waitForSsh|bootstrapVm/);
    child.stdin.write('\x03');
    await waitFor(/Cancel this deploy/);
    child.stdin.write('y\r');
    expect(await exited).toBe(1);
    expect(output).toMatch(new RegExp(`deploy ${workflowId} was cancelled: removed wftest-\\S+.* \\(created by this run\\); kept no VM`));
    expect((await h.client.workflow.getHandle(workflowId).describe()).status.name).toBe('CANCELLED');
  });
});
