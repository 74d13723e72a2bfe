import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageCommandDeps } from '../../src/cli/commands/images';
import { buildProgram } from '../../src/cli/main';
import * as buildCommand from '../../src/cli/usage/build';
import * as pushCommand from '../../src/cli/usage/push';
import { readLastBuild } from '../../src/images/last-build';
import { removeBuildImages } from '../../src/images/build';
import type { RegistryPlan } from '../../src/spec/plan';
import { buildPlan, resolverWith } from '../support/build-plan';
import { expectJson } from '../support/json-shapes';
import { describeWithLab, labInfo } from '../support/lab';

jest.setTimeout(300_000);

const RUN = `cli-${process.pid}-${Date.now().toString(36)}`;

describeWithLab(['registry'], 'kamal-dev build and push', () => {
  const registry = () => labInfo<{ address: string; username: string; password: string }>('registry');
  let dir: string;
  let output = '';
  let progress = '';

  const cli = async (...args: string[]) => {
    const registryPlan: RegistryPlan = {
      server: registry().address, namespace: 'build-test', local: false, usernameSecret: 'CLI_USER', passwordSecret: 'CLI_PASS',
    };
    const deps: ImageCommandDeps = {
      // The computed tag would be the git commit; a fixed one shows `push` follows the record, not the plan.
      loadPlan: async ({ cwd, tag }) => ({ plan: buildPlan(cwd, registryPlan, tag ?? `${RUN}-computed`), storedEnvironment: [], warnings: [] }),
      secretsFor: () => resolverWith({ CLI_USER: registry().username, CLI_PASS: registry().password }),
      stdout: { write: (chunk: string) => ((output += chunk), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: (chunk: string) => ((progress += chunk), true) } as unknown as NodeJS.WritableStream,
    };
    const program = buildProgram({ images: deps }, [buildCommand, pushCommand]);
    output = '';
    progress = '';
    await program.parseAsync(['node', 'kamal-dev', '-C', dir, ...args]);
    return output;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kamal-dev-build-cli-'));
    cpSync(join(__dirname, '..', 'fixtures', 'build-app', 'hello.txt'), join(dir, 'hello.txt'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM debian:bookworm-slim\nCOPY hello.txt /hello.txt\n');
  });

  // Every build of the file, undone newest first: each gives its names back to what they held before it.
  const builds: string[] = [];
  const build = async (...args: string[]) => {
    const output = await cli(...args);
    const record = readLastBuild(dir);
    if (record && !builds.includes(record.buildId)) builds.push(record.buildId);
    return output;
  };

  afterAll(async () => {
    for (const buildId of builds.reverse()) await removeBuildImages(buildId).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('push without a build fails clearly', async () => {
    await expect(cli('push')).rejects.toThrow('nothing has been built in this project yet');
  });

  it('build shows steps and records the tag; push pushes exactly that', async () => {
    const built = await build('build', '--tag', RUN);
    // Progress goes to stderr, in the lines a deploy shows; the result to stdout.
    expect(progress).toMatch(/^app \[1\/2\] FROM docker.io\/library\/debian:bookworm-slim  (running|CACHED|done)/m);
    expect(built).toContain(`built ${registry().address}/build-test/app:${RUN}`);
    await expect(cli('push', '--tag', 'never-built')).rejects.toThrow(`the last build is tag ${RUN}, not never-built`);
    const pushed = await cli('push');
    expect(pushed).toMatch(new RegExp(`pushed and verified ${registry().address}/build-test/app:${RUN}@sha256:[0-9a-f]{64}`));
    expect(progress).toMatch(new RegExp(`^${registry().address}/build-test/app:${RUN}  pushed \\d+/\\d+ layers.*, sha256:`, 'm'));
    expect(pushed).not.toContain('computed');
  });

  it('build --json and push --json print one document each', async () => {
    const built = expectJson('build', await build('--json', 'build', '--tag', RUN)) as { images: { image: string }[] };
    expect(built.images.map((i) => i.image)).toEqual([`${registry().address}/build-test/app:${RUN}`]);
    const pushed = expectJson('push', await cli('--json', 'push')) as { images: { image: string }[] };
    expect(pushed.images.map((i) => i.image)).toEqual([`${registry().address}/build-test/app:${RUN}`]);
  });
});
