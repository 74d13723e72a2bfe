import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBuildActivities } from '../../src/activities/build';
import type { ImageProgress } from '../../src/images/progress';
import type { BuiltImage } from '../../src/domain/images';
import type { DeployActivities } from '../../src/activities/types';
import { removeBuildImages } from '../../src/images/build';
import { localImageId } from '../../src/images/recorded';
import type { DeployPlan, RegistryPlan } from '../../src/spec/plan';
import { buildPlan } from '../support/build-plan';
import { describeWithLab, labInfo } from '../support/lab';

jest.setTimeout(300_000);

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const buildIds: string[] = [];

describeWithLab(['registry', 'temporal'], 'build and push activities on a real Temporal worker', () => {
  const registry = () => labInfo<{ address: string; username: string; password: string }>('registry');
  const taskQueue = `build-activities-${RUN}`;
  const attempts: Record<string, number> = {};
  const progress: ImageProgress[] = [];
  let password = '';
  let connection: Connection;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  let dir: string;
  let built: BuiltImage[];

  const plan = (server: string, dockerfile = 'FROM debian:bookworm-slim\nRUN echo fine\n'): DeployPlan => {
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    const registryPlan: RegistryPlan = { server, namespace: 'build-test', local: false, usernameSecret: 'ACT_USER', passwordSecret: 'ACT_PASS' };
    return buildPlan(dir, registryPlan, RUN, { image: `${server}/build-test/act:${RUN}` });
  };

  const start = (workflow: 'buildWorkflow' | 'pushWorkflow', input: unknown) =>
    client.workflow.start(workflow, { taskQueue, workflowId: `${taskQueue}-${workflow}-${Math.random().toString(36).slice(2)}`, args: [input] });

  const failureOf = async (promise: Promise<unknown>): Promise<ApplicationFailure> => {
    const error = (await promise.then(
      () => undefined,
      (e: unknown) => e,
    )) as { cause: { cause: ApplicationFailure } };
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(error.cause).toBeInstanceOf(ActivityFailure);
    expect(error.cause.cause).toBeInstanceOf(ApplicationFailure);
    return error.cause.cause;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kamal-dev-build-activities-'));
    cpSync(join(__dirname, '..', 'fixtures', 'build-app', 'hello.txt'), join(dir, 'hello.txt'));
    const activities = createBuildActivities({
      secretsFor: () => (name) => ({ ACT_USER: registry().username, ACT_PASS: password })[name] ?? (() => { throw new Error(`${name} is not set`); })(),
      onProgress: (p) => progress.push(p),
    });
    const counted = Object.fromEntries(
      Object.entries(activities).map(([name, fn]) => [
        name,
        (input: never) => {
          attempts[name] = (attempts[name] ?? 0) + 1;
          return (fn as (i: never) => Promise<unknown>)(input);
        },
      ]),
    ) as unknown as Pick<DeployActivities, 'buildImages' | 'pushImages'>;
    const { address } = labInfo<{ address: string }>('temporal');
    connection = await Connection.connect({ address });
    client = new Client({ connection });
    worker = await Worker.create({
      connection: await NativeConnection.connect({ address }),
      taskQueue,
      workflowsPath: require.resolve('../support/workflows/images'),
      activities: counted,
    });
    running = worker.run();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await connection?.close();
    for (const id of buildIds) await removeBuildImages(id).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    for (const key of Object.keys(attempts)) delete attempts[key];
    progress.length = 0;
    password = registry().password;
  });

  const build = async (p: DeployPlan, name: string) => {
    const buildId = `build-activities-${name}-${RUN}`;
    buildIds.push(buildId);
    return { buildId, handle: await start('buildWorkflow', { plan: p, buildId }) };
  };

  it('builds with progress, then a wrong password fails the push once, for good', async () => {
    const p = plan(registry().address);
    const images = (built = await (await build(p, 'ok')).handle.result());
    expect(progress.some((e) => e.phase === 'build' && e.event.type === 'done')).toBe(true);
    password = 'wrong-password';
    const failure = await failureOf((await start('pushWorkflow', { plan: p, images })).result());
    expect(failure).toMatchObject({ type: 'RegistryAuthFailed', nonRetryable: true });
    expect(failure.message).toContain('refused logging in');
    expect(attempts.pushImages).toBe(1);
  });

  it('retries a registry that is down, then fails with a clear error', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const p = plan(`localhost:${port}`);
    const failure = await failureOf((await start('pushWorkflow', { plan: p, images: built })).result());
    expect(failure).toMatchObject({ type: 'RegistryUnavailable', nonRetryable: false });
    expect(failure.message).toBe(`the registry localhost:${port} is not reachable or failing (logging in to localhost:${port} as lab-user)`);
    expect(attempts.pushImages).toBe(3);
  });

  it('fails a broken build once, naming the step, with its output in the details', async () => {
    const { handle } = await build(plan(registry().address, 'FROM debian:bookworm-slim\nRUN echo "oops-output" && false\n'), 'broken');
    const failure = await failureOf(handle.result());
    expect(failure).toMatchObject({ type: 'BuildFailed', nonRetryable: true });
    // The failure names the Dockerfile it comes from, as every failure with a file does.
    expect(failure.message).toMatch(/Dockerfile: building the image of service app failed at step \[2\/2\] RUN echo "oops-output" && false$/);
    expect(JSON.stringify(failure.details)).toContain('oops-output');
    expect(attempts.buildImages).toBe(1);
    // The name still holds the image of the good build before it.
    expect(await localImageId(built[0].image)).toBe(built[0].imageId);
  });

  it('retries a base image whose registry is down; a base image that does not exist fails once, as bad input', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const down = await failureOf((await build(plan(registry().address, `FROM localhost:${port}/base:1\n`), 'base-down')).handle.result());
    expect(down).toMatchObject({ type: 'BuildFailed', nonRetryable: false, details: [expect.objectContaining({ retry: 'transient' })] });
    expect(JSON.stringify(down.details)).toContain('connection refused');
    expect(attempts.buildImages).toBe(3);

    for (const key of Object.keys(attempts)) delete attempts[key];
    const missing = await failureOf((await build(plan(registry().address, `FROM ${registry().address}/build-test/no-such-base:${RUN}\n`), 'base-missing')).handle.result());
    expect(missing).toMatchObject({ type: 'BuildFailed', nonRetryable: true, details: [expect.objectContaining({ retry: 'bad-input' })] });
    expect(attempts.buildImages).toBe(1);
  });

  it('stops a running build when the workflow is cancelled', async () => {
    const { handle } = await build(plan(registry().address, `FROM debian:bookworm-slim\nRUN echo ${RUN} && sleep 120\n`), 'cancel');
    const deadline = Date.now() + 60_000;
    while (!progress.some((e) => e.phase === 'build' && e.event.type === 'step' && e.event.step.name.includes('sleep 120'))) {
      if (Date.now() > deadline) throw new Error('the build never reached its sleep step');
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = Date.now();
    await handle.cancel();
    const error = await handle.result().catch((e) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(error.cause).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await localImageId(built[0].image)).toBe(built[0].imageId);
  });
});
