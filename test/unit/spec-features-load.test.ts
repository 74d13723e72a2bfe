import { runPlan } from '../../src/cli/commands/plan';
import { resolveSpec } from '../../src/spec/resolve';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

const DC = '.devcontainer/devcontainer.json';
const feature = (id: string, manifest: Record<string, unknown> = {}) => ({
  [`.devcontainer/features/${id}/devcontainer-feature.json`]: JSON.stringify({ id, version: '1.0.0', ...manifest }),
  [`.devcontainer/features/${id}/install.sh`]: '#!/bin/sh\necho installing\n',
});
const project = (devcontainer: Record<string, unknown>, files: Record<string, string> = {}) => tempProject({ [DC]: JSON.stringify({ image: 'debian', ...devcontainer }), ...files });
const resolveIn = (dir: string) => resolveSpec({ projectDir: dir, tag: 't', env: { HOME: '/h' } });

describe('features in the plan step', () => {
  it('loads local features relative to devcontainer.json, with options and in install order', async () => {
    const dir = project(
      { features: { './features/app': { flavour: 'mild' }, './features/base': true }, overrideFeatureInstallOrder: ['./features/base'] },
      { ...feature('app', { options: { flavour: { type: 'string', default: 'hot', enum: ['hot', 'mild'] }, loud: { type: 'boolean', default: false } } }), ...feature('base') },
    );
    const spec = await resolveIn(dir);
    expect(spec.features.map((f) => [f.ref, f.dir, f.options])).toEqual([
      ['./features/base', '0_base', {}],
      ['./features/app', '1_app', { flavour: 'mild', loud: false }],
    ]);
    expect(spec.features[0].digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(spec.warnings).toEqual([]);
    // An image devcontainer with features gets a build: the features stage on top of its image.
    expect(spec.plan.builds).toEqual([
      expect.objectContaining({ service: 'app', dockerfile: '', image: 'localhost:5555/kamal-dev/my-app-dev:t', features: expect.objectContaining({ baseImage: 'debian', features: [expect.objectContaining({ dir: '0_base' }), expect.objectContaining({ dir: '1_app', env: 'FLAVOUR="mild"\nLOUD="false"\n' })] }) }),
    ]);
    expect((spec.plan.stack.compose.services as Record<string, { image: string }>).app.image).toBe('localhost:5555/kamal-dev/my-app-dev:t');
    let text = '';
    await runPlan({ projectDir: dir, tag: 't', env: { HOME: '/h' } }, { write: (c: string) => ((text += c), true) } as never);
    expect(text).toMatch(/features +1\. \.\/features\/base \(base 1\.0\.0\)\n +2\. \.\/features\/app \(app 1\.0\.0\) flavour=mild loud=false/);
  });

  it.each([
    ['a folder that does not exist', { './features/none': true }, {}, 'features../features/none', /feature folder .* does not exist/],
    ['a feature without install.sh', { './features/x': true }, { '.devcontainer/features/x/devcontainer-feature.json': '{"id": "x"}' }, 'features../features/x', /has no install.sh/],
    ['an option outside its enum', { './features/app': { flavour: 'wild' } }, feature('app', { options: { flavour: { type: 'string', enum: ['hot'] } } }), 'features../features/app.flavour', /expected one of hot, got "wild"/],
    ['an option of the wrong type', { './features/app': { loud: 'yes' } }, feature('app', { options: { loud: { type: 'boolean' } } }), 'features../features/app.loud', /expected true or false/],
    ['an OCI feature whose registry cannot be reached', { 'localhost:1/devcontainers/features/github-cli:1': true }, {}, 'features.localhost:1/devcontainers/features/github-cli:1', /feature localhost:1\/devcontainers\/features\/github-cli:1 cannot be fetched: could not reach the registry/],
    ['a tarball URL nothing answers', { 'https://127.0.0.1:3/devcontainer-feature-f.tgz': true }, {}, 'features.https://127.0.0.1:3/devcontainer-feature-f.tgz', /cannot be fetched: the server cannot be reached: connect ECONNREFUSED 127\.0\.0\.1:3/],
  ])('refuses %s, naming the file and the key (exit 2)', async (_name, features, files, key, message) => {
    const error = await resolveIn(project({ features }, files as Record<string, string>)).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'config', exitCode: 2, file: DC, key, message: expect.stringMatching(message) });
  });

  it("merges the features' container metadata before devcontainer.json's own; their entrypoints run first, as the reference CLI runs them", async () => {
    const files = { ...feature('x', { capAdd: ['SYS_PTRACE'], privileged: true, mounts: ['source=x-cache,target=/x,type=volume'], entrypoint: '/usr/local/share/x-init.sh' }), ...feature('y', { capAdd: ['NET_ADMIN'], init: true, securityOpt: ['seccomp=unconfined'] }) };
    const spec = await resolveIn(project({ features: { './features/x': true, './features/y': true }, capAdd: ['SYS_ADMIN'] }, files));
    const app = (spec.plan.stack.compose.services as Record<string, Record<string, unknown>>).app;
    expect(app).toMatchObject({ cap_add: ['SYS_PTRACE', 'NET_ADMIN', 'SYS_ADMIN'], privileged: true, init: true, security_opt: ['seccomp=unconfined'] });
    expect(app.volumes).toEqual(expect.arrayContaining([{ type: 'volume', source: 'x-cache', target: '/x' }]));
    expect(spec.plan.stack.compose.volumes).toEqual({ 'x-cache': {} });
    expect(app.entrypoint).toEqual(['/bin/sh', '-c', 'echo Container started\ntrap "exit 0" 15\n/usr/local/share/x-init.sh\nexec "$$@"\nwhile sleep 1 & wait $$!; do :; done', '-']);
    expect(app.command).toBeUndefined();
    expect(spec.warnings).toEqual([]);
    expect(spec.plan.stack.imageEntrypoint).toBeUndefined();
    // Without overrideCommand (an image devcontainer's default is on) the image's own ENTRYPOINT and CMD come after, read on each VM.
    const own = await resolveIn(project({ features: { './features/x': true }, overrideCommand: false }, files));
    expect(own.plan.stack.imageEntrypoint).toEqual({ withCmd: true });
    expect(own.warnings).toEqual([]);
  });

  it('refuses a dependency cycle', async () => {
    const files = { ...feature('a', { installsAfter: ['b'] }), ...feature('b', { installsAfter: ['a'] }) };
    await expect(resolveIn(project({ features: { './features/a': true, './features/b': true } }, files))).rejects.toMatchObject({ key: 'features', message: expect.stringMatching(/cycle: \.\/features\/a, \.\/features\/b/) });
  });
});
