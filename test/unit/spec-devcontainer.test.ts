import { join } from 'node:path';
import { loadDevcontainer, locateDevcontainer } from '../../src/spec/devcontainer';
import { lifecycleSteps, substitute } from '../../src/spec/devcontainer-vars';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

const load = (files: Record<string, string>, env: NodeJS.ProcessEnv = {}) => {
  const dir = tempProject(files);
  return { dir, dc: loadDevcontainer(locateDevcontainer(dir), dir, env) };
};

describe('devcontainer.json', () => {
  it('is found at .devcontainer/devcontainer.json, then .devcontainer.json, or at --from (file or folder)', () => {
    const both = tempProject({ '.devcontainer/devcontainer.json': '{}', '.devcontainer.json': '{}', 'alt/devcontainer.json': '{}' });
    expect(locateDevcontainer(both)).toBe(join(both, '.devcontainer/devcontainer.json'));
    const root = tempProject({ '.devcontainer.json': '{}' });
    expect(locateDevcontainer(root)).toBe(join(root, '.devcontainer.json'));
    expect(locateDevcontainer(both, 'alt')).toBe(join(both, 'alt/devcontainer.json'));
    expect(locateDevcontainer(both, 'alt/devcontainer.json')).toBe(join(both, 'alt/devcontainer.json'));
  });

  it('reads JSONC: comments and trailing commas', () => {
    const { dc } = load({ '.devcontainer/devcontainer.json': '// c\n{ /* x */ "image": "debian:bookworm-slim", "forwardPorts": [3000,], }' });
    expect(dc.kind).toBe('image');
    expect(dc.image).toBe('debian:bookworm-slim');
    expect(dc.forwardPorts).toEqual([3000]);
  });

  it('has image-kind defaults: workspace at /workspaces/<folder>, overrideCommand on', () => {
    const { dc } = load({ '.devcontainer/devcontainer.json': '{"image": "x"}' });
    expect(dc).toMatchObject({ workspaceFolder: '/workspaces/my-app', overrideCommand: true, containerEnv: {}, postCreateCommand: [] });
  });

  it('reads build.{dockerfile,context,args,target,cacheFrom} relative to the devcontainer.json folder', () => {
    const { dir, dc } = load({
      '.devcontainer/devcontainer.json': '{"build": {"dockerfile": "Dockerfile", "context": "..", "args": {"V": 3}, "target": "dev", "cacheFrom": "ghcr.io/me/cache"}}',
      '.devcontainer/Dockerfile': 'FROM scratch',
    });
    expect(dc.kind).toBe('dockerfile');
    expect(dc.build).toEqual({ dockerfile: join(dir, '.devcontainer/Dockerfile'), context: dir, args: { V: '3' }, target: 'dev', cacheFrom: ['ghcr.io/me/cache'] });
  });

  it('accepts the legacy dockerFile / context spelling', () => {
    const { dir, dc } = load({ '.devcontainer/devcontainer.json': '{"dockerFile": "app.Dockerfile"}', '.devcontainer/app.Dockerfile': 'FROM scratch' });
    expect(dc.build?.dockerfile).toBe(join(dir, '.devcontainer/app.Dockerfile'));
    expect(dc.build?.context).toBe(join(dir, '.devcontainer'));
  });

  it('reads dockerComposeFile as a string or a list, in order, with service, runServices and workspaceFolder', () => {
    const files = { '.devcontainer/a.yml': '', '.devcontainer/b.yml': '', 'compose.yml': '' };
    const single = load({ ...files, '.devcontainer/devcontainer.json': '{"dockerComposeFile": "../compose.yml", "service": "app"}' });
    expect(single.dc.compose).toEqual({ files: [join(single.dir, 'compose.yml')], service: 'app', runServices: undefined });
    expect(single.dc.overrideCommand).toBe(false);
    const list = load({ ...files, '.devcontainer/devcontainer.json': '{"dockerComposeFile": ["a.yml", "b.yml"], "service": "web", "runServices": ["db"], "workspaceFolder": "/src"}' });
    expect(list.dc.compose).toEqual({ files: [join(list.dir, '.devcontainer/a.yml'), join(list.dir, '.devcontainer/b.yml')], service: 'web', runServices: ['db'] });
    expect(list.dc.workspaceFolder).toBe('/src');
  });

  it('substitutes ${localEnv:VAR[:default]}, ${localWorkspaceFolder[Basename]} and ${containerWorkspaceFolder}', () => {
    const { dir, dc } = load(
      {
        '.devcontainer/devcontainer.json': JSON.stringify({
          image: '${localEnv:IMG:debian:bookworm-slim}',
          workspaceFolder: '/w/${localWorkspaceFolderBasename}',
          containerEnv: { A: '${localEnv:SET}', B: '${localEnv:UNSET}', C: '${env:SET}', D: '${localWorkspaceFolder}', E: '${containerWorkspaceFolder}', F: '${containerEnv:PATH}' },
        }),
      },
      { SET: 'yes' },
    );
    expect(dc.image).toBe('debian:bookworm-slim');
    expect(dc.workspaceFolder).toBe('/w/my-app');
    expect(dc.containerEnv).toEqual({ A: 'yes', B: '', C: 'yes', D: dir, E: '/w/my-app', F: '${containerEnv:PATH}' });
  });

  it('keeps remoteEnv and the forwardPorts forms', () => {
    const { dc } = load({ '.devcontainer/devcontainer.json': '{"image": "x", "remoteEnv": {"A": "1", "B": null}, "forwardPorts": [8080, "db:5432"]}' });
    expect(dc.remoteEnv).toEqual({ A: '1', B: null });
    expect(dc.forwardPorts).toEqual([8080, 'db:5432']);
  });

  it('reads postCreateCommand / postStartCommand as string, array or object', () => {
    const { dc } = load({
      '.devcontainer/devcontainer.json': '{"image": "x", "postCreateCommand": "bundle install && bin/setup", "postStartCommand": {"server": ["bin/rails", "s"], "jobs": "bin/jobs"}}',
    });
    expect(dc.postCreateCommand).toEqual([{ shell: 'bundle install && bin/setup' }]);
    expect(dc.postStartCommand).toEqual([
      { name: 'server', argv: ['bin/rails', 's'] },
      { name: 'jobs', shell: 'bin/jobs' },
    ]);
    expect(lifecycleSteps(['echo', 'hi'])).toEqual([{ argv: ['echo', 'hi'] }]);
    expect(lifecycleSteps('')).toEqual([]);
  });

  it('leaves variables it does not know as written', () => {
    expect(substitute('${devcontainerId}-${localEnv:X}', { localWorkspaceFolder: '/p', containerWorkspaceFolder: '/w', env: { X: 'x' } })).toBe('${devcontainerId}-x');
  });
});
