import { statSync } from 'node:fs';
import { join } from 'node:path';
import { uploadProgress } from '../../src/client/deploy';
import { composePull, containerImages, dockerTag, projectContainers } from '../../src/docker/compose';
import { pullDocument, stagedPullRef } from '../../src/remote/stackRelease';
import { workspaceSelection } from '../../src/spec/workspace-files';
import { fakePlan } from '../support/fakePlan';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

describe('the workspace copy: what goes to a VM', () => {
  const project = () =>
    tempProject({
      'app.rb': 'puts 1\n',
      'lib/deep/util.rb': 'x\n',
      '.gitignore': 'build/\n*.log\n',
      'build/out.bin': '0123456789',
      'debug.log': 'noise\n',
      'sub/.gitignore': 'cache/\n!keep.log\n',
      'sub/cache/blob': 'cached\n',
      'sub/keep.log': 'kept by the nested .gitignore\n',
      '.kamal-dev-ignore': 'fixtures/big/\n',
      'fixtures/big/dump.sql': 'huge\n',
      'fixtures/small.sql': 'small\n',
      'node_modules/pkg/index.js': 'dep\n',
      '.kamal/secrets': 'NEVER=copied\n',
      '.git/HEAD': 'ref: refs/heads/main\n',
    });
  const defaults = { exclude: ['.kamal', 'node_modules'] };

  it('honours every .gitignore and .kamal-dev-ignore, and never carries .kamal/, .git or node_modules', async () => {
    const dir = project();
    const { paths, bytes } = await workspaceSelection(dir, defaults);
    expect(paths.sort()).toEqual(['.gitignore', '.kamal-dev-ignore', 'app.rb', 'fixtures/small.sql', 'lib/deep/util.rb', 'sub/.gitignore', 'sub/keep.log']);
    expect(bytes).toBe(paths.reduce((sum, p) => sum + statSync(join(dir, p)).size, 0));
  });

  it('carries .git as one folder when asked', async () => {
    const { paths } = await workspaceSelection(project(), { ...defaults, includeGit: true });
    expect(paths).toContain('.git');
    expect(paths.filter((p) => p.startsWith('.git/'))).toEqual([]);
  });

  it('.kamal/ stays behind even when an ignore file tries to let it in', async () => {
    const dir = tempProject({ '.gitignore': '!.kamal/\n', '.kamal/secrets': 'NEVER=copied\n', 'a.txt': 'a' });
    expect((await workspaceSelection(dir, { exclude: [] })).paths.sort()).toEqual(['.gitignore', 'a.txt']);
  });
});

describe('a staged release', () => {
  it('is pulled from .staged in the live project folder, with its own env file', () => {
    const plan = fakePlan({ projectDir: '/src/wftest', count: 1, skipBuild: false, skipPush: false });
    expect(composePull(stagedPullRef(plan))).toEqual([
      'docker', 'compose', '-p', 'wftest', '--project-directory', '/opt/kamal-dev/wftest', '-f', '/opt/kamal-dev/wftest/.staged/pull.yaml',
      '--env-file', '/opt/kamal-dev/wftest/.staged/secrets.env', 'pull',
    ]);
  });

  it('pulls from a file of images only: the env files and paths of the staged compose file are not in place yet', () => {
    const compose = {
      name: 'shop',
      services: {
        app: { image: 'reg/app:v2', env_file: ['/opt/kamal-dev/shop/env/1-app.env'], volumes: ['/opt/kamal-dev/shop/workspaces/shop:/w'], platform: 'linux/amd64' },
        db: { image: 'postgres:16', pull_policy: 'missing', environment: { PW: '${DB_PASSWORD}' } },
      },
      volumes: { data: {} },
    };
    expect(pullDocument(compose)).toEqual({
      name: 'shop',
      services: { app: { image: 'reg/app:v2', platform: 'linux/amd64' }, db: { image: 'postgres:16', pull_policy: 'missing' } },
    });
  });

  it('records what the running containers run, and gives images their names back', () => {
    expect(projectContainers('wftest')).toEqual(['docker', 'ps', '-aq', '--no-trunc', '--filter', 'label=com.docker.compose.project=wftest']);
    expect(containerImages(['c1'])).toEqual(['docker', 'inspect', '--format', '{{.Id}} {{index .Config.Labels "com.docker.compose.service"}} {{.Config.Image}} {{.Image}}', 'c1']);
    expect(dockerTag('sha256:1', 'reg/app:v1')).toEqual(['docker', 'tag', 'sha256:1', 'reg/app:v1']);
  });
});

describe("uploadStack's heartbeat details on the progress line", () => {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  it('shows the bytes sent, and nothing for other steps or unreadable details', () => {
    expect(uploadProgress(json({ step: 'upload', bytes: 120_000_000, totalBytes: 300_000_000 }))).toBe('sent 120.0 of 300.0 MB');
    expect(uploadProgress(json({ step: 'upload', bytes: 5_000_000, totalBytes: 0 }))).toBe('sent 5.0 MB');
    expect(uploadProgress(json('compose'))).toBeUndefined();
    expect(uploadProgress(Buffer.from('not json'))).toBeUndefined();
    expect(uploadProgress(undefined)).toBeUndefined();
  });
});
