import { lifecyclePlan, lifecycleSchedule } from '../../src/spec/lifecycle';
import type { Devcontainer } from '../../src/spec/devcontainer';
import { runInitializeCommand } from '../../src/images/initialize';
import { cleanupProjects, tempProject } from '../support/project';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

afterAll(cleanupProjects);

const devcontainer = (over: Partial<Devcontainer>): Devcontainer =>
  ({
    workspaceFolder: '/w',
    remoteEnv: {},
    initializeCommand: [],
    onCreateCommand: [],
    updateContentCommand: [],
    postCreateCommand: [],
    postStartCommand: [],
    postAttachCommand: [],
    ...over,
  }) as Devcontainer;

describe('lifecyclePlan', () => {
  it('keeps the shape recorded plans have when only postCreate/postStart exist', () => {
    expect(lifecyclePlan(devcontainer({ postCreateCommand: [{ shell: 'a' }] }))).toEqual({ workdir: '/w', env: {}, postCreate: [{ shell: 'a' }], postStart: [] });
    expect(lifecyclePlan(devcontainer({}))).toBeUndefined();
    expect(lifecyclePlan(devcontainer({ initializeCommand: [{ shell: 'only on the source machine' }] }))).toBeUndefined();
  });

  it('carries every hook, waitFor, and the features\' commands before the devcontainer\'s own', () => {
    const plan = lifecyclePlan(
      devcontainer({ onCreateCommand: [{ shell: 'own-create' }], updateContentCommand: [{ argv: ['u'] }], postAttachCommand: [{ shell: 'attach' }], waitFor: 'onCreateCommand', remoteUser: 'dev' }),
      [
        { feature: 'a', commands: { onCreateCommand: [{ shell: 'a-create' }] } },
        { feature: 'b', commands: { onCreateCommand: [{ name: 'x', shell: 'b1' }, { name: 'y', shell: 'b2' }], postStartCommand: [{ shell: 'b-start' }] } },
      ],
    );
    expect(plan).toEqual({
      workdir: '/w',
      user: 'dev',
      env: {},
      onCreate: [{ shell: 'a-create', feature: 'a' }, { name: 'x', shell: 'b1', feature: 'b' }, { name: 'y', shell: 'b2', feature: 'b' }, { shell: 'own-create' }],
      updateContent: [{ argv: ['u'] }],
      postCreate: [],
      postStart: [{ shell: 'b-start', feature: 'b' }],
      postAttach: [{ shell: 'attach' }],
      waitFor: 'onCreateCommand',
    });
  });
});

describe('lifecycleSchedule', () => {
  const base = { workdir: '/w', env: {}, onCreate: [{ shell: 'c' }], updateContent: [{ shell: 'u' }], postCreate: [{ shell: 'p' }], postStart: [{ shell: 's' }], postAttach: [{ shell: 'a' }] };

  it('runs the hooks in the spec order, blocking up to postCreateCommand by default, never postAttachCommand', () => {
    expect(lifecycleSchedule(base).map((h) => [h.hook, h.when, h.blocking])).toEqual([
      ['onCreateCommand', 'once', true],
      ['updateContentCommand', 'once', true],
      ['postCreateCommand', 'once', true],
      ['postStartCommand', 'start', false],
    ]);
  });

  it('follows waitFor', () => {
    const blocking = (waitFor: string) => lifecycleSchedule({ ...base, waitFor: waitFor as never }).filter((h) => h.blocking).map((h) => h.hook);
    expect(blocking('updateContentCommand')).toEqual(['onCreateCommand', 'updateContentCommand']);
    expect(blocking('initializeCommand')).toEqual([]);
    expect(blocking('postAttachCommand')).toEqual(['onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand']);
  });

  it('runs features one after another and the entries of one object-form command together', () => {
    const [hook] = lifecycleSchedule({ workdir: '/w', env: {}, postCreate: [{ shell: 'a', feature: 'f1' }, { shell: 'b1', feature: 'f2' }, { shell: 'b2', feature: 'f2' }, { name: 'x', shell: 'o1' }, { name: 'y', shell: 'o2' }], postStart: [] });
    expect(hook.groups.map((g) => g.map((s) => ('shell' in s ? s.shell : '')))).toEqual([['a'], ['b1', 'b2'], ['o1', 'o2']]);
  });
});

describe('runInitializeCommand', () => {
  it('runs string, argv and parallel object forms in the project folder', async () => {
    const dir = tempProject({});
    await runInitializeCommand([{ shell: 'pwd > where' }, { argv: ['touch', 'argv-ran'] }], { projectDir: dir, file: '.devcontainer/devcontainer.json' });
    expect(readFileSync(join(dir, 'where'), 'utf8').trim()).toBe(dir);
    expect(readFileSync(join(dir, 'argv-ran'), 'utf8')).toBe('');
  });

  it('fails as a build error (exit 1) naming the file and key, with the last output line', async () => {
    const failure = runInitializeCommand([{ name: 'env', shell: 'echo preparing; echo "no .env template" >&2; exit 4' }], { projectDir: tempProject({}), file: '.devcontainer/devcontainer.json' });
    await expect(failure).rejects.toMatchObject({ kind: 'build', exitCode: 1, file: '.devcontainer/devcontainer.json', key: 'initializeCommand.env', message: 'failed on this machine (exit code 4): no .env template' });
  });
});
