import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createVmActivities } from '../../src/activities/vm';
import type { VmHandle } from '../../src/domain/vm';
import type { DeployPlan } from '../../src/spec/plan';
import type { ProfileOverrides } from '../../src/workflows/types';
import { sh } from '../lab/exec';
import { describeWithLab } from '../support/lab';
import { connectLab, queues, type Harness } from '../support/temporalHarness';
import { destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(300_000);

/** The upload profile as deployed, but a dead worker noticed in 5 s rather than a minute. */
const PROFILES: ProfileOverrides = { upload: { heartbeatTimeout: '5s', initialInterval: '200ms' } };
const WORKSPACE_MB = 300;

describeWithLab(['temporal', 'vmImage'], 'the worker that holds the source killed with SIGKILL mid-upload', () => {
  const service = `upkill-${process.pid}`;
  const vmActivities = createVmActivities({ resolveSecret: async (name) => name });
  const children: ChildProcess[] = [];
  let h: Harness;
  let dir: string;
  let plan: DeployPlan;
  let vm: VmHandle;
  const stackDir = `/opt/kamal-dev/${service}`;
  const onVm = async (script: string) => (await sh(['docker', 'exec', vm.name, 'sh', '-c', script])).trim();

  beforeAll(async () => {
    h = await connectLab();
    const project = await testProject('upkill');
    dir = mkdtempSync(join(tmpdir(), 'kamal-dev-upkill-'));
    const source = join(dir, 'workspace');
    mkdirSync(join(source, 'data'), { recursive: true });
    // Random data (tar does not compress) in a few files, a source file, and build output .gitignore keeps off the VM.
    for (let i = 0; i < WORKSPACE_MB / 50; i++) await sh(['sh', '-c', 'head -c 50M /dev/urandom > "$1"', 'sh', join(source, 'data', `part-${i}.bin`)]);
    writeFileSync(join(source, 'main.txt'), 'the source\n');
    writeFileSync(join(source, '.gitignore'), 'build/\n');
    mkdirSync(join(source, 'build'));
    writeFileSync(join(source, 'build', 'out.bin'), 'never uploaded\n');
    plan = testPlan({
      projectDir: project.dir,
      keyPath: project.keyPath,
      service,
      stack: { compose: { services: {} }, workspace: { source, target: 'workspace', exclude: [] } },
    });
    vm = await vmActivities.provisionVm({ plan, vm: { deployment: service, name: `${service}-1`, index: 1 }, createdBy: 'upload-kill-test' });
    await vmActivities.waitForSsh({ plan, vm });
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await vmActivities.close();
    await destroyDeployment(service);
    if (dir) rmSync(dir, { recursive: true, force: true });
    await h?.close();
  });

  it('a new worker uploads it again from the start: done once, the same files, nothing partial left', async () => {
    const bundlePath = join(dir, 'workflow-bundle.js');
    const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../support/workflows/upload'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
    writeFileSync(bundlePath, bundle.code);
    const recordFile = join(dir, 'calls.jsonl');
    const { shared } = queues('upkill');
    const spawnWorker = () => {
      const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'support', 'uploadWorker.ts'), h.address, shared, bundlePath, recordFile], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      return new Promise<ChildProcess>((resolve, reject) => {
        child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(child));
        child.on('exit', (code, signal) => reject(new Error(`worker exited with ${code ?? signal}`)));
      });
    };
    const calls = (): { event: string; pid: number }[] => (existsSync(recordFile) ? readFileSync(recordFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)) : []);
    const seedingBytes = async () => Number((await onVm(`du -sb ${stackDir}/.workspace.seeding 2>/dev/null | cut -f1`)) || 0);

    const first = await spawnWorker();
    const handle = await h.client.workflow.start('uploadWorkflow', { taskQueue: shared, workflowId: `${shared}-upload`, args: [{ plan, vm }, PROFILES] });
    // Strike once a tenth of the workspace is on the VM, well before the end.
    await waitFor(async () => (await seedingBytes()) > (WORKSPACE_MB << 20) / 10);
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const cutOff = await seedingBytes();
    expect(cutOff).toBeLessThan(WORKSPACE_MB << 20);
    // What the killed attempt left is beside the target, never taken for a seeded copy.
    expect(await onVm(`ls -A ${stackDir}`)).toBe('.staged\n.workspace.seeding');

    const second = await spawnWorker();
    const result = await handle.result();

    expect(result).toMatchObject({ stackDir, workspace: 'seeded' });
    const sent = calls();
    expect(sent).toEqual([
      { step: 'uploadStack', event: 'start', pid: first.pid },
      { step: 'uploadStack', event: 'start', pid: second.pid },
      { step: 'uploadStack', event: 'done', pid: second.pid },
    ]);
    // The second attempt was given to the new worker when the first one's heartbeats stopped.
    const { events } = await handle.fetchHistory();
    const started = (events ?? []).map((e) => e.activityTaskStartedEventAttributes).filter(Boolean);
    expect(started.map((s) => [s!.attempt, s!.lastFailure?.timeoutFailureInfo?.timeoutType])).toEqual([[2, temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT]]);
    // The same files with the same content, each once: no file of the cut-off copy doubled or left over.
    const manifest = (root: string) => `cd ${root} && find . -type f | LC_ALL=C sort | xargs sha256sum`;
    const expected = (await sh(['sh', '-c', manifest(plan.stack.workspace!.source)])).trim().split('\n').filter((l) => !l.includes('./build/'));
    expect(await onVm(manifest(`${stackDir}/workspace`))).toBe(expected.join('\n'));
    // The bytes of the attempt that completed (tar's headers and padding on top of the data), not both attempts'.
    expect(result.bytes).toBeGreaterThan(WORKSPACE_MB << 20);
    expect(result.bytes).toBeLessThan((WORKSPACE_MB + 1) << 20);
    expect(await onVm(`ls -A ${stackDir}`)).toBe('.staged\nworkspace');
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}
