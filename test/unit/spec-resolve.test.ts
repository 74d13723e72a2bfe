import { projectIdentity } from '../../src/state/identity';
import { join, resolve } from 'node:path';
import { requiredSecretNames } from '../../src/spec/resolve-parts';
import { resolvePlan, resolveSpec, serviceFromFolder } from '../../src/spec/resolve';
import { cleanupProjects, IMAGE_DEVCONTAINER, tempProject } from '../support/project';

afterAll(cleanupProjects);

const env = { HOME: '/home/dev' };

describe('resolvePlan', () => {
  it('deploys a project with only an image devcontainer on defaults', async () => {
    const dir = tempProject(IMAGE_DEVCONTAINER, 'My_Project.v2');
    const plan = await resolvePlan({ projectDir: dir, count: 2, tag: 'abc1234', env });
    expect(plan).toEqual({
      projectDir: dir,
      identity: projectIdentity(dir),
      configFile: undefined,
      secretsFile: join(dir, '.kamal/secrets'),
      kind: 'image',
      service: 'my-project-v2',
      registry: { server: 'localhost:5555', namespace: 'kamal-dev', local: true, usernameSecret: undefined, passwordSecret: undefined },
      tag: 'abc1234',
      builds: [],
      stack: {
        projectName: 'my-project-v2',
        primaryService: 'app',
        compose: {
          name: 'my-project-v2',
          services: {
            app: {
              image: 'debian:bookworm-slim',
              entrypoint: ['/bin/sh', '-c', "trap 'exit 0' TERM; while sleep 1000 & wait $$!; do :; done"],
              environment: {},
              volumes: [{ type: 'bind', source: '/opt/kamal-dev/my-project-v2/workspaces/My_Project.v2', target: '/workspaces/My_Project.v2', bind: { create_host_path: true } }],
              working_dir: '/workspaces/My_Project.v2',
            },
          },
        },
        files: [],
        workspace: { source: dir, target: 'workspaces/My_Project.v2', exclude: ['.kamal', 'node_modules'] },
        secrets: [],
        dropped: [],
      },
      vms: [
        { name: 'my-project-v2-1', index: 1 },
        { name: 'my-project-v2-2', index: 2 },
      ],
      provider: { type: 'docker', image: undefined, baseImage: undefined },
      ssh: { user: 'root', port: 22, keyPath: '/home/dev/.ssh/id_ed25519', keyPathSetting: '~/.ssh/id_ed25519' },
      onFailure: 'destroy',
    });
  });

  it('builds a Dockerfile devcontainer as the primary image, with config build settings and registry', async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': '{"build": {"dockerfile": "Dockerfile", "context": "..", "args": {"A": "1"}}, "containerEnv": {"TOKEN": "${localEnv:API_TOKEN}"}}',
      '.devcontainer/Dockerfile': 'FROM scratch',
      '.kamal/secrets': 'API_TOKEN=$(exit 1)\n',
      'config/dev.yml': 'service: shop\nregistry: {namespace: Octo}\nbuild: {args: {B: 2}, secrets: [KEY]}\nvms: {count: 3}\nnaming: "dev-{index}-{service}"\non_failure: keep\n',
    });
    const plan = await resolvePlan({ projectDir: dir, tag: 't', env: { ...env, API_TOKEN: 'value-never-in-the-plan' } });
    expect(plan.kind).toBe('dockerfile');
    expect(plan.registry).toEqual({ server: 'ghcr.io', namespace: 'octo', local: false, usernameSecret: 'GITHUB_USER', passwordSecret: 'GITHUB_TOKEN' });
    expect(plan.builds).toEqual([
      { service: 'app', context: dir, dockerfile: join(dir, '.devcontainer/Dockerfile'), args: { A: '1', B: '2' }, target: undefined, secrets: ['KEY'], platform: undefined, cacheFrom: [], image: 'ghcr.io/octo/shop-dev:t' },
    ]);
    expect((plan.stack.compose.services as Record<string, { environment: unknown }>).app.environment).toEqual({ TOKEN: '${API_TOKEN}' });
    expect(plan.stack.secrets).toEqual(['API_TOKEN']);
    expect(JSON.stringify(plan)).not.toContain('value-never-in-the-plan');
    expect(plan.vms.map((v) => v.name)).toEqual(['dev-1-shop', 'dev-2-shop', 'dev-3-shop']);
    expect(plan.onFailure).toBe('keep');
    expect(requiredSecretNames(plan).sort()).toEqual(['API_TOKEN', 'GITHUB_TOKEN', 'GITHUB_USER', 'KEY']);
  });

  it('takes the namespace from image.name and --from over config', async () => {
    const dir = tempProject({ ...IMAGE_DEVCONTAINER, 'other/devcontainer.json': '{"image": "alpine"}', 'config/dev.yml': 'registry: {server: docker.io}\nimage: {name: me/tool, devcontainer: nope.json}' });
    const plan = await resolvePlan({ projectDir: dir, tag: 't', devcontainerPath: 'other', env });
    expect(plan.registry.namespace).toBe('me');
    expect((plan.stack.compose.services as Record<string, { image: string }>).app.image).toBe('alpine');
  });

  describe('the default namespace is the registry user name', () => {
    const storyConfig = { ...IMAGE_DEVCONTAINER, 'config/dev.yml': 'service: metalsmoney\nregistry: {server: ghcr.io, username_env: GITHUB_USER, password_env: GITHUB_TOKEN}\n' };
    const resolveStory = (files: Record<string, string>, extraEnv: Record<string, string>) => resolvePlan({ projectDir: tempProject(files), tag: 'abc123', env: { ...env, ...extraEnv } });

    it('reads the story config/dev.yml user from username_env, lower-cased', async () => {
      const plan = await resolveStory(storyConfig, { GITHUB_USER: 'LJuti', GITHUB_TOKEN: 'never-in-the-plan' });
      expect(plan.registry).toEqual({ server: 'ghcr.io', namespace: 'ljuti', local: false, usernameSecret: 'GITHUB_USER', passwordSecret: 'GITHUB_TOKEN' });
      expect(JSON.stringify(plan)).not.toContain('never-in-the-plan');
    });

    it('gives built images {registry}/{user}/{service}-dev:{tag}', async () => {
      const files = { ...storyConfig, '.devcontainer/devcontainer.json': '{"build": {"dockerfile": "Dockerfile"}}', '.devcontainer/Dockerfile': 'FROM scratch' };
      const plan = await resolveStory(files, { GITHUB_USER: 'ljuti' });
      expect(plan.builds.map((b) => b.image)).toEqual(['ghcr.io/ljuti/metalsmoney-dev:abc123']);
    });

    it('reads a literal user name from .kamal/secrets, never running a command there', async () => {
      const literal = await resolveStory({ ...storyConfig, '.kamal/secrets': 'GITHUB_USER=Octo\nGITHUB_TOKEN=$(exit 1)\n' }, {});
      expect(literal.registry.namespace).toBe('octo');
      const command = resolveStory({ ...storyConfig, '.kamal/secrets': 'GITHUB_USER=$(echo octo)\n' }, {});
      await expect(command).rejects.toMatchObject({ key: 'registry.namespace' });
    });

    it('lets registry.namespace and image.name override it', async () => {
      const user = { GITHUB_USER: 'ljuti' };
      const withNamespace = { ...storyConfig, 'config/dev.yml': 'registry: {username_env: GITHUB_USER, namespace: Team}\n' };
      expect((await resolveStory(withNamespace, user)).registry.namespace).toBe('team');
      const withImage = { ...storyConfig, 'config/dev.yml': 'registry: {username_env: GITHUB_USER}\nimage: {name: acme/tool}\n' };
      expect((await resolveStory(withImage, user)).registry.namespace).toBe('acme');
    });

    it('uses the per-server default user variable when username_env is not given', async () => {
      const plan = await resolveStory({ ...IMAGE_DEVCONTAINER, 'config/dev.yml': 'registry: {server: docker.io}\n' }, { DOCKER_USERNAME: 'Me' });
      expect(plan.registry.namespace).toBe('me');
    });
  });

  it('puts the container keys into the deployed service: mounts, caps, user, runArgs, workspaceMount, appPort', async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': JSON.stringify({
        image: 'debian',
        workspaceMount: 'source=${localWorkspaceFolder},target=/src,type=bind',
        workspaceFolder: '/src',
        mounts: ['source=shop-gems,target=/gems,type=volume', 'source=${localEnv:HOME}/.ssh,target=/root/.ssh,type=bind'],
        capAdd: ['SYS_PTRACE'],
        securityOpt: ['seccomp=unconfined'],
        init: true,
        privileged: true,
        containerUser: 'dev',
        runArgs: ['--shm-size=1g'],
        appPort: 3000,
      }),
    });
    const spec = await resolveSpec({ projectDir: dir, tag: 't', env });
    const app = (spec.plan.stack.compose.services as Record<string, Record<string, unknown>>).app;
    expect(app).toMatchObject({ cap_add: ['SYS_PTRACE'], security_opt: ['seccomp=unconfined'], init: true, privileged: true, user: 'dev', shm_size: '1g' });
    expect(app.volumes).toEqual([
      { type: 'bind', source: '/opt/kamal-dev/my-app/workspaces/my-app', target: '/src', bind: { create_host_path: true } },
      { type: 'volume', source: 'shop-gems', target: '/gems' },
    ]);
    expect(app.ports).toEqual([{ mode: 'ingress', host_ip: '127.0.0.1', target: 3000, published: '3000', protocol: 'tcp' }]);
    expect(spec.plan.stack.compose.volumes).toEqual({ 'shop-gems': {} });
    expect(spec.warnings).toEqual([{ file: '.devcontainer/devcontainer.json', key: 'mounts[1]', message: expect.stringMatching(/bind mount of \/home\/dev\/.ssh, a path on this machine only/) }]);
  });

  it('fails the plan when the UpCloud plan is smaller than hostRequirements', async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': '{"image": "debian", "hostRequirements": {"cpus": 4, "memory": "8gb"}}',
      'config/dev.yml': 'provider: {type: upcloud, zone: fi-hel1, plan: 2xCPU-4GB}\n',
    });
    await expect(resolveSpec({ projectDir: dir, tag: 't', env })).rejects.toMatchObject({ kind: 'config', key: 'hostRequirements.cpus', file: '.devcontainer/devcontainer.json' });
  });

  it('carries postCreateCommand and postStartCommand with remoteUser and remoteEnv into the stack', async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': JSON.stringify({
        image: 'debian',
        workspaceFolder: '/src/${localWorkspaceFolderBasename}',
        remoteUser: 'dev',
        remoteEnv: { EDITOR: 'vim', UNSET_ME: null },
        postCreateCommand: 'bin/setup',
        postStartCommand: { server: ['bin/rails', 's'] },
      }),
    });
    const plan = await resolvePlan({ projectDir: dir, tag: 't', env });
    expect(plan.stack.lifecycle).toEqual({
      workdir: '/src/my-app',
      user: 'dev',
      env: { EDITOR: 'vim' },
      postCreate: [{ shell: 'bin/setup' }],
      postStart: [{ name: 'server', argv: ['bin/rails', 's'] }],
    });
    const none = await resolvePlan({ projectDir: tempProject(IMAGE_DEVCONTAINER), tag: 't', env });
    expect(none.stack).not.toHaveProperty('lifecycle');
  });

  it('derives the service from the folder name', () => {
    expect(serviceFromFolder('/x/Rails App (copy)')).toBe('rails-app-copy');
    expect(() => serviceFromFolder('/x/___')).toThrow(/cannot derive a service name/);
  });

  it('resolves a relative project dir', async () => {
    const plan = await resolvePlan({ projectDir: 'examples/simple-image', tag: 't', env: { ...env, SIMPLE_IMAGE: 'debian:bookworm-slim' } });
    expect(plan.projectDir).toBe(resolve('examples/simple-image'));
    expect((plan.stack.compose.services as Record<string, Record<string, unknown>>).app).toMatchObject({
      image: 'debian:bookworm-slim',
      environment: { GREETING: 'hello from simple-image' },
      ports: [{ mode: 'ingress', host_ip: '127.0.0.1', target: 8080, published: '8080', protocol: 'tcp' }],
    });
  });
});
