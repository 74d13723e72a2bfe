import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { sh } from '../lab/exec';
import { describeWithLab, labInfo } from '../support/lab';
import { kamalDev, removeDeploymentLeftovers, vmContainers } from '../support/kamal-dev';
import { activityAttempts, deploymentImages, faultProject, faultService, labEnv, temporalClient, temporalSection, terminateIfRunning } from '../support/faults';

jest.setTimeout(180_000);

const DOCKERFILE = readFileSync(join(__dirname, '..', '..', 'examples', 'rails', '.devcontainer', 'Dockerfile'), 'utf8');
const BUILD = faultService('flt-build');
const AUTH = faultService('flt-auth');
const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('error:'));
const workflowIdIn = (stderr: string) => /started (\S+):/.exec(stderr)?.[1];

/** Failures before any VM exists: the build itself, and a registry that refuses the credentials. */
describeWithLab(['docker', 'baseImage', 'registry', 'localRegistry', 'temporal'], 'fault: build and registry failures', () => {
  let temporal: { client: Client; close(): Promise<void> };
  const dirs: string[] = [];
  const workflows: string[] = [];

  beforeAll(async () => {
    temporal = await temporalClient();
    for (const service of [BUILD, AUTH]) await removeDeploymentLeftovers(service);
  });

  afterAll(async () => {
    for (const id of workflows) await terminateIfRunning(temporal.client, id);
    await temporal.close();
    for (const service of [BUILD, AUTH]) await removeDeploymentLeftovers(service);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a failing build: one clear error naming the step, no image and no VM left', async () => {
    const failing = 'RUN echo "compiling assets" && echo "assets.js:12: SyntaxError: Unexpected token" >&2 && exit 7\n';
    const dir = faultProject(BUILD, temporalSection(BUILD, '    long: {heartbeat: 30s}'), { '.devcontainer/Dockerfile': DOCKERFILE + failing });
    dirs.push(dir);

    const result = await kamalDev(['deploy', '--count', '2'], { cwd: dir, env: labEnv() });
    const id = workflowIdIn(result.stderr);
    if (id) workflows.push(id);

    expect(result.code).not.toBe(0);
    expect(errorLines(result.stderr)).toEqual([expect.stringMatching(/building the image of service app failed at step \[stage-0 6\/6\] RUN echo "compiling assets"/)]);
    expect(result.stderr).toContain('did not complete successfully: exit code: 7');
    expect(result.stderr).toMatch(/last output:(\n\s+.*)*\n\s+assets\.js:12: SyntaxError/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // A build error is the user's to fix: no retries.
    expect((await activityAttempts(temporal.client, id!)).buildImages).toBe(1);
    expect(await deploymentImages(BUILD)).toEqual([]);
    expect(await sh(['docker', 'images', '-q', '--filter', 'dangling=false', `localhost:5555/kamal-dev/${BUILD}-dev`])).toBe('');
    expect(await vmContainers(BUILD)).toEqual([]);
  });

  it('registry 401: one clear error, no retry storm, no VM, no image left', async () => {
    const { address } = labInfo<{ address: string }>('registry');
    const dir = faultProject(
      AUTH,
      [
        `registry: {server: ${address}, namespace: lab, username_env: LAB_REGISTRY_USER, password_env: LAB_REGISTRY_PASSWORD}`,
        temporalSection(AUTH, '    long: {heartbeat: 30s}'),
      ].join('\n'),
      {
        '.kamal/secrets': [
          'RAILS_MASTER_KEY=fault-suite-master-key',
          'POSTGRES_PASSWORD=fault-suite-pg',
          `LAB_REGISTRY_USER=${labInfo<{ username: string }>('registry').username}`,
          "LAB_REGISTRY_PASSWORD='not-the-password'",
          '',
        ].join('\n'),
      },
    );
    dirs.push(dir);

    const result = await kamalDev(['deploy', '--count', '2'], { cwd: dir, env: labEnv('localhost:5556') });
    const id = workflowIdIn(result.stderr);
    if (id) workflows.push(id);

    expect(result.code).not.toBe(0);
    expect(errorLines(result.stderr)).toEqual([expect.stringContaining(`the registry ${address} refused logging in to ${address} as lab-user: wrong credentials`)]);
    expect(result.stderr).toContain('401 Unauthorized');
    expect(result.stderr).not.toContain('not-the-password');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    const attempts = await activityAttempts(temporal.client, id!);
    expect(attempts.pushImages).toBe(1);
    expect(await deploymentImages(AUTH)).toEqual([]);
    expect(await sh(['docker', 'images', '-q', `${address}/lab/${AUTH}-dev`])).toBe('');
    // The VMs made while the build and push ran are destroyed before the deploy fails.
    expect(await vmContainers(AUTH)).toEqual([]);
  });
});
