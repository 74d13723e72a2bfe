import Docker from 'dockerode';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createWorker } from '../../src/worker';
import { sh } from '../lab/exec';
import { LAB_LABEL } from '../lab/lab';
import { describeWithLab, labInfo } from '../support/lab';

jest.setTimeout(120_000);

describeWithLab(['docker'], 'Docker engine', () => {
  it('lists images through dockerode', async () => {
    const images = await new Docker().listImages();
    expect(Array.isArray(images)).toBe(true);
  });

  it('has Compose v2', async () => {
    expect(await sh(['docker', 'compose', 'version', '--short'])).toMatch(/^v?2\./);
  });

  // Its images cannot be pulled here, so it is never started in tests: Compose at least accepts it.
  it('accepts docker-compose.temporal.yml, with the server and the Web UI on loopback', async () => {
    const file = join(__dirname, '..', '..', 'docker-compose.temporal.yml');
    const model = JSON.parse(await sh(['docker', 'compose', '-f', file, 'config', '--format', 'json'])) as { services: Record<string, { ports?: { host_ip: string; published: string }[] }> };
    expect(Object.keys(model.services).sort()).toEqual(['postgresql', 'temporal', 'temporal-ui']);
    expect(model.services.temporal.ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', published: '7233' })]);
    expect(model.services['temporal-ui'].ports).toEqual([expect.objectContaining({ host_ip: '127.0.0.1', published: '8233' })]);
  });
});

describeWithLab(['registry'], 'lab registry with htpasswd auth', () => {
  const registry = () => labInfo<{ address: string; username: string; password: string }>('registry');
  const tag = () => `${registry().address}/smoke/tiny:${process.pid}`;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-smoke-'));
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    await sh(['bash', '-c', `tar -C "${dir}" -c hello.txt | docker import -c 'LABEL ${LAB_LABEL}=smoke' - "${tag()}"`]);
  });

  afterAll(async () => {
    await sh(['docker', 'rmi', '-f', tag()]).catch(() => undefined);
    await sh(['docker', 'logout', registry().address]).catch(() => undefined);
  });

  it('rejects a wrong password', async () => {
    await expect(
      sh(['docker', 'login', registry().address, '--username', registry().username, '--password-stdin'], { input: 'wrong' }),
    ).rejects.toThrow(/unauthorized|401/i);
  });

  it('accepts the right password and takes a push', async () => {
    await sh(['docker', 'login', registry().address, '--username', registry().username, '--password-stdin'], {
      input: registry().password,
    });
    await sh(['docker', 'push', tag()]);
    const response = await fetch(`http://${registry().address.replace('localhost', '127.0.0.1')}/v2/smoke/tiny/tags/list`, {
      headers: { Authorization: `Basic ${Buffer.from(`${registry().username}:${registry().password}`).toString('base64')}` },
    });
    expect(await response.json()).toEqual({ name: 'smoke/tiny', tags: expect.arrayContaining([String(process.pid)]) });
  });
});

describeWithLab(['temporal'], 'Temporal dev server', () => {
  it('runs a workflow to completion with a real worker', async () => {
    const { address } = labInfo<{ address: string }>('temporal');
    const connection = await Connection.connect({ address });
    const taskQueue = `smoke-${process.pid}-${Date.now()}`;
    const worker = await Worker.create({
      connection: await NativeConnection.connect({ address }),
      taskQueue,
      workflowsPath: require.resolve('../support/workflows/smoke'),
      activities: { greet: async (name: string) => `hello ${name}` },
    });
    try {
      const result = await worker.runUntil(
        new Client({ connection }).workflow.execute('smokeWorkflow', { taskQueue, workflowId: taskQueue, args: ['lab'] }),
      );
      expect(result).toBe('hello lab');
    } finally {
      await connection.close();
    }
  });

  // A command that fails after making its worker (a refused deploy, say) must still exit: the
  // worker's workflow threads exist from creation and hold the process and the connection.
  it('releases a worker that never ran, so its connection closes and the process can exit', async () => {
    const connection = await NativeConnection.connect({ address: labInfo<{ address: string }>('temporal').address });
    const worker = await createWorker({
      connection,
      taskQueues: { shared: `release-${process.pid}-${Date.now()}` },
      activities: {} as never,
      workflowCode: { workflowsPath: require.resolve('../support/workflows/smoke') },
    });
    await expect(connection.close()).rejects.toThrow(/Workers hold a reference/);
    await worker.release();
    await connection.close();
  });
});
