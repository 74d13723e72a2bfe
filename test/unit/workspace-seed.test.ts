import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detachPointOf, reached } from '../../src/cli/detach';
import { seedLayer } from '../../src/images/seed-layer';
import { seedRepository } from '../../src/images/seed';
import { keepRecentSeeds, seedsFile } from '../../src/images/seed-retention';
import type { StackPlan } from '../../src/spec/plan';
import type { DeployProgress, StepProgress } from '../../src/workflows/types';
import { fakePlan } from '../support/fakePlan';

describe('the workspace seed layer', () => {
  let dir: string;
  const stack = (): StackPlan => ({
    projectName: 'p',
    primaryService: 'app',
    compose: {},
    files: [{ source: join(dir, 'app.env'), target: 'env/1-app.env' }],
    workspace: { source: dir, target: 'workspaces/p', exclude: ['node_modules'] },
    secrets: [],
    dropped: [],
  });
  const made: string[] = [];
  const layer = async () => {
    const l = await seedLayer(stack());
    made.push(l.dir);
    return l;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kamal-dev-seed-unit-'));
    writeFileSync(join(dir, 'hello.txt'), 'hello\n');
    mkdirSync(join(dir, '.kamal'));
    writeFileSync(join(dir, '.kamal', 'secrets'), 'NEVER=here\n');
    mkdirSync(join(dir, 'node_modules'));
    writeFileSync(join(dir, 'node_modules', 'x.js'), '\n');
    writeFileSync(join(dir, 'app.env'), 'A=1\n');
  });
  afterEach(() => {
    for (const d of [dir, ...made.splice(0)]) rmSync(d, { recursive: true, force: true });
  });

  it('holds the workspace selection and the stack files, never .kamal/', async () => {
    const l = await layer();
    const listing = execFileSync('tar', ['-tvzf', l.file], { encoding: 'utf8' }).trim().split('\n');
    const names = listing.map((line) => line.split(/\s+/).at(-1)).sort();
    expect(names).toEqual(['stack/', 'stack/env/', 'stack/env/1-app.env', 'workspace/app.env', 'workspace/hello.txt']);
    expect(listing.find((line) => line.endsWith('stack/env/1-app.env'))).toMatch(/^-rw------- 0\/0 /);
    expect(l).toMatchObject({ files: 2, workspaceBytes: 10 });
  });

  it('is the same bytes for the same tree, and other bytes when a file changes', async () => {
    const first = await layer();
    const again = await layer();
    expect([again.digest, again.diffId]).toEqual([first.digest, first.diffId]);
    writeFileSync(join(dir, 'hello.txt'), 'changed\n');
    utimesSync(join(dir, 'hello.txt'), new Date(0), new Date(0));
    expect((await layer()).digest).not.toBe(first.digest);
  });

  it('lives beside the primary image', () => {
    const plan = fakePlan({ projectDir: '/src/p', skipBuild: false, skipPush: false });
    const withBuild = { ...plan, builds: [{ ...plan.builds[0], service: plan.stack.primaryService, image: 'registry.test:5000/team/p-dev:abc' }] };
    expect(seedRepository(withBuild)).toBe('registry.test:5000/team/p-dev-workspace');
    expect(seedRepository({ ...plan, builds: [] })).toBe(`${plan.registry.server}/${plan.registry.namespace}/${plan.service}-workspace`);
  });
});

describe('deploy --detach', () => {
  const plan = fakePlan({ projectDir: '/src/p', skipBuild: false, skipPush: false });
  const step = (name: string, state: StepProgress['state']): StepProgress => ({ name, state });
  const progress = (states: StepProgress['state'][], vmUp: StepProgress['state'] = 'pending'): DeployProgress => ({
    workflowId: 'w',
    phase: states.every((s) => s === 'done') ? 'vms' : 'push',
    steps: ['planDeploy', 'buildImages', 'pushImages', 'pushWorkspaceSeed'].map((n, i) => step(n, states[i])),
    vms: [{ name: 'p-1', workflowId: 'w/vm/p-1', state: 'running', steps: [step('composeUp', vmUp)] }],
  });

  it('returns after the push and the seed, after the pulls with the local registry, at the end with local VMs or --skip-push', () => {
    const remote = { ...plan, provider: { type: 'ssh' as const, hosts: [] }, registry: { ...plan.registry, local: false } };
    expect(detachPointOf(remote, false)).toBe('pushed');
    expect(detachPointOf({ ...remote, registry: { ...remote.registry, local: true } }, false)).toBe('pulled');
    expect(detachPointOf({ ...remote, provider: { type: 'docker' } }, false)).toBe('end');
    expect(detachPointOf(remote, true)).toBe('end');

    expect(reached('pushed', progress(['done', 'done', 'done', 'running']))).toBe(false);
    expect(reached('pushed', progress(['done', 'done', 'done', 'done']))).toBe(true);
    expect(reached('pulled', progress(['done', 'done', 'done', 'done']))).toBe(false);
    expect(reached('pulled', progress(['done', 'done', 'done', 'done'], 'done'))).toBe(true);
    expect(reached('end', progress(['done', 'done', 'done', 'done'], 'done'))).toBe(false);
  });
});

describe('retention of workspace seeds', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kamal-dev-seed-retention-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps this checkout's current and previous seed; older ones are deleted where the registry allows it, and never asked about again", async () => {
    const asked: string[] = [];
    const registry = { deleteManifest: async (digest: string) => (asked.push(digest), digest !== 'sha256:kept-by-registry') };
    const push = (digest: string, repository = 'reg/p-workspace') => keepRecentSeeds(dir, repository, digest, registry);
    expect(await push('sha256:1')).toEqual([]);
    expect(await push('sha256:2')).toEqual([]);
    // The same tree again (an unchanged seed) is the current one: nothing goes.
    expect(await push('sha256:2')).toEqual([]);
    expect(await push('sha256:3')).toEqual(['sha256:1']);
    expect(await push('sha256:kept-by-registry')).toEqual(['sha256:2']);
    expect(await push('sha256:4')).toEqual(['sha256:3']);
    // A registry that keeps a manifest (no deletion allowed) keeps it: it is not this machine's to retry.
    expect(await push('sha256:5')).toEqual([]);
    expect(asked).toEqual(['sha256:1', 'sha256:2', 'sha256:3', 'sha256:kept-by-registry']);
    // Another repository (another deployment's seeds) has its own two.
    expect(await push('sha256:9', 'reg/q-workspace')).toEqual([]);
    expect(JSON.parse(readFileSync(seedsFile(dir), 'utf8'))).toEqual({ 'reg/p-workspace': ['sha256:5', 'sha256:4'], 'reg/q-workspace': ['sha256:9'] });
  });
});
