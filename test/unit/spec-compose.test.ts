import { join } from 'node:path';
import { ComposeModel } from '../../src/docker/compose-config';
import { applyConfigBuild, composeBuilds } from '../../src/spec/compose-builds';
import { readEnvFileSources } from '../../src/spec/compose-env-files';
import { placeholderEnv, secretPlaceholder } from '../../src/spec/compose-secrets';
import { singleServiceModel } from '../../src/spec/compose-synth';
import { REMOTE_STACK_ROOT, remoteStackDir } from '../../src/spec/compose-mounts';
import { StackInput, transformStack } from '../../src/spec/compose';
import { loadDevcontainer } from '../../src/spec/devcontainer';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

const P = '/home/dev/src/shop';
const STACK = '/opt/kamal-dev/shop';
const bind = (source: string, target: string) => ({ type: 'bind', source, target, bind: { create_host_path: true } });

function model(): ComposeModel {
  return {
    name: 'devcontainer',
    services: {
      app: {
        build: { context: P, dockerfile: '.devcontainer/Dockerfile' },
        command: null,
        entrypoint: null,
        depends_on: { db: { condition: 'service_healthy', required: true } },
        environment: { FROM_FILE: '1', EXPLICIT: 'x', TOKEN: `t-${secretPlaceholder('API_TOKEN')}`, LIT: 'a$$b' },
        ports: [{ mode: 'ingress', target: 3000, published: '3000', protocol: 'tcp' }],
        volumes: [bind(P, '/workspaces/shop'), bind('/home/dev/src', '/workspaces'), bind(`${P}/tmp/cache`, '/cache'), bind('/var/run/docker.sock', '/var/run/docker.sock'), { type: 'volume', source: 'gems', target: '/gems', volume: {} }],
        secrets: [{ source: 'runtime_file' }, { source: 'runtime_env' }],
        profiles: ['dev'],
        networks: { default: null, back: null },
      },
      db: { image: 'postgres:16', healthcheck: { test: ['CMD', 'pg_isready'], interval: '2s' }, environment: { POSTGRES_PASSWORD: secretPlaceholder('PG_PASS') } },
      worker: { build: { context: P, dockerfile: 'worker.Dockerfile' }, depends_on: { db: { condition: 'service_started', required: true } } },
      extra: { image: 'busybox' },
    },
    volumes: { gems: { name: 'devcontainer_gems' }, shared: { name: 'custom-name' }, ext: { name: 'ext', external: true } },
    networks: { default: { name: 'devcontainer_default', ipam: {} }, back: { name: 'devcontainer_back' } },
    secrets: {
      runtime_file: { name: 'devcontainer_runtime_file', file: `${P}/secret.txt` },
      runtime_env: { name: 'devcontainer_runtime_env', environment: 'API_TOKEN' },
      build_only: { name: 'devcontainer_build_only', environment: 'build_only' },
    },
    'x-shared': { owner: 'me' },
  };
}

const input = (over: Partial<StackInput> = {}): StackInput => ({
  model: model(),
  primaryService: 'app',
  projectDir: P,
  projectName: 'shop',
  images: { app: 'ghcr.io/me/shop-dev:abc', worker: 'ghcr.io/me/shop-worker-dev:abc' },
  containerEnv: { RAILS_ENV: 'development', PRICE: '$5' },
  overrideCommand: false,
  envFiles: { app: { files: [{ path: `${P}/.devcontainer/app.env`, keys: ['FROM_FILE', 'EXPLICIT'] }], explicitKeys: ['EXPLICIT'] } },
  devcontainerFile: '.devcontainer/devcontainer.json',
  ...over,
});

describe('compose transform', () => {
  const stack = transformStack(input());
  const services = stack.compose.services as Record<string, Record<string, unknown>>;

  it('puts every stack in a fixed folder on the VM', () => {
    expect(REMOTE_STACK_ROOT).toBe('/opt/kamal-dev');
    expect(remoteStackDir('shop')).toBe(STACK);
    expect(stack.compose.name).toBe('shop');
    expect(stack.projectName).toBe('shop');
  });

  it('replaces build: by the pushed image for every built service', () => {
    expect(services.app.build).toBeUndefined();
    expect(services.app.image).toBe('ghcr.io/me/shop-dev:abc');
    expect(services.worker.image).toBe('ghcr.io/me/shop-worker-dev:abc');
    expect(services.db.image).toBe('postgres:16');
  });

  it('keeps depends_on conditions, healthchecks, ports, networks, named volumes and x- fields', () => {
    expect(services.app.depends_on).toEqual({ db: { condition: 'service_healthy', required: true } });
    expect(services.db.healthcheck).toEqual({ test: ['CMD', 'pg_isready'], interval: '2s' });
    expect(services.app.ports).toEqual([{ mode: 'ingress', host_ip: '127.0.0.1', target: 3000, published: '3000', protocol: 'tcp' }]);
    expect(services.app.networks).toEqual({ default: null, back: null });
    expect(stack.compose['x-shared']).toEqual({ owner: 'me' });
    expect(services.app).not.toHaveProperty('command');
  });

  it('drops volume and network names Compose derived from the local project name, keeps explicit ones', () => {
    expect(stack.compose.volumes).toEqual({ gems: {}, shared: { name: 'custom-name' }, ext: { name: 'ext', external: true } });
    expect(stack.compose.networks).toEqual({ default: { ipam: {} }, back: {} });
  });

  it('rewrites workspace bind mounts (project, a folder in it, and the parent ../.. form) to the synced copy', () => {
    expect(services.app.volumes).toEqual([
      bind(`${STACK}/workspaces/shop`, '/workspaces/shop'),
      bind(`${STACK}/workspaces`, '/workspaces'),
      bind(`${STACK}/workspaces/shop/tmp/cache`, '/cache'),
      { type: 'volume', source: 'gems', target: '/gems', volume: {} },
    ]);
    expect(stack.workspace).toEqual({ source: P, target: 'workspaces/shop', exclude: ['.kamal', 'node_modules'] });
  });

  it('drops other local bind mounts, with the reason', () => {
    expect(stack.dropped).toEqual([{ source: '/var/run/docker.sock', reason: expect.stringMatching(/app:\/var\/run\/docker.sock is outside the project/) }]);
  });

  it('ships env files as uploaded copies and takes their values out of environment (explicit keys stay)', () => {
    expect(services.app.env_file).toEqual([`${STACK}/env/1-app.env`]);
    expect(stack.files).toContainEqual({ source: `${P}/.devcontainer/app.env`, target: 'env/1-app.env' });
    expect(services.app.environment).not.toHaveProperty('FROM_FILE');
    expect(services.app.environment).toHaveProperty('EXPLICIT', 'x');
  });

  it('adds containerEnv to the primary service, escaped for interpolation', () => {
    expect(services.app.environment).toMatchObject({ RAILS_ENV: 'development', PRICE: '$$5', LIT: 'a$$b' });
    expect(services.db.environment).not.toHaveProperty('RAILS_ENV');
  });

  it('turns secret placeholders into ${NAME} references and lists the names; no value anywhere', () => {
    expect(services.app.environment).toHaveProperty('TOKEN', 't-${API_TOKEN}');
    expect(services.db.environment).toEqual({ POSTGRES_PASSWORD: '${PG_PASS}' });
    expect(stack.secrets).toEqual(['API_TOKEN', 'PG_PASS']);
    expect(JSON.stringify(stack.compose)).not.toContain('__KAMAL_DEV_SECRET_');
  });

  it('keeps only the top-level secrets services use at run time; file secrets become uploads', () => {
    expect(stack.compose.secrets).toEqual({ runtime_file: { file: `${STACK}/files/2-secret.txt` }, runtime_env: { environment: 'API_TOKEN' } });
    expect(stack.files).toContainEqual({ source: `${P}/secret.txt`, target: 'files/2-secret.txt' });
  });

  it('replaces the primary command with a keep-alive when overrideCommand is on', () => {
    const app = (transformStack(input({ overrideCommand: true })).compose.services as Record<string, Record<string, unknown>>).app;
    expect(app.entrypoint).toEqual(['/bin/sh', '-c', "trap 'exit 0' TERM; while sleep 1000 & wait $$!; do :; done"]);
  });

  it("runs the features' entrypoints before the compose service's own entrypoint and command, as the reference CLI does", () => {
    const m = model();
    m.services!.app.entrypoint = ['/docker-entrypoint.sh', '--$flag'];
    m.services!.app.command = ['sleep', 'infinity'];
    const script = 'echo Container started\ntrap "exit 0" 15\n/a-init.sh\necho $$HOME\nexec "$$@"\nwhile sleep 1 & wait $$!; do :; done';
    const app = (transformStack(input({ model: m, featureEntrypoints: ['/a-init.sh', 'echo $HOME'] })).compose.services as Record<string, Record<string, unknown>>).app;
    expect(app).toMatchObject({ entrypoint: ['/bin/sh', '-c', script, '-', '/docker-entrypoint.sh', '--$flag'], command: ['sleep', 'infinity'] });
    const replaced = (transformStack(input({ model: m, overrideCommand: true, featureEntrypoints: ['/a-init.sh', 'echo $HOME'] })).compose.services as Record<string, Record<string, unknown>>).app;
    expect(replaced.entrypoint).toEqual(['/bin/sh', '-c', script, '-']);
    expect(replaced.command).toBeUndefined();
  });

  it('with runServices deploys those, the primary service and their dependencies only', () => {
    const names = Object.keys(transformStack(input({ runServices: [] })).compose.services as object);
    expect(names).toEqual(['app', 'db']);
  });

  it('needs no workspace copy when nothing mounts the project', () => {
    const m = model();
    m.services!.app.volumes = [];
    expect(transformStack(input({ model: m })).workspace).toBeUndefined();
  });
});

describe('compose profiles: deployed as Compose would start them', () => {
  const profiled = (): ComposeModel => {
    const m = model();
    m.services!.app.profiles = undefined;
    m.services!.extra.profiles = ['tools'];
    m.services!.mail = { image: 'mailpit', profiles: ['mail', 'tools'] };
    m.services!.cache = { image: 'redis', profiles: ['never'] };
    m.services!.worker.depends_on = { db: {}, cache: {} };
    return m;
  };
  const deployed = (over: Partial<StackInput>) => transformStack(input({ model: profiled(), ...over })).compose.services as Record<string, Record<string, unknown>>;

  it('leaves out a service with profiles that nothing names, and keeps one that a deployed service depends on', () => {
    const services = deployed({});
    expect(Object.keys(services)).toEqual(['app', 'db', 'worker', 'cache']);
    expect(services.cache).not.toHaveProperty('profiles');
  });

  it('deploys the services of the profiles config/dev.yml names, without their profiles (the VM runs up -d as it is)', () => {
    const services = deployed({ profiles: { names: ['mail'], file: 'config/dev.yml' } });
    expect(Object.keys(services)).toEqual(['app', 'db', 'worker', 'mail', 'cache']);
    expect(services.mail).toEqual({ image: 'mailpit' });
    expect(Object.keys(deployed({ profiles: { names: ['tools'], file: 'config/dev.yml' } }))).toEqual(['app', 'db', 'worker', 'extra', 'mail', 'cache']);
  });

  it('deploys a profiled service runServices names', () => {
    expect(Object.keys(deployed({ runServices: ['extra'] }))).toEqual(['app', 'db', 'extra']);
  });

  it('says which profiles exist when config/dev.yml names one no service has', () => {
    expect(() => deployed({ profiles: { names: ['mial'], file: 'config/dev.yml' } })).toThrow(
      expect.objectContaining({ file: 'config/dev.yml', key: 'compose.profiles', message: 'no compose service has the profile "mial"', description: expect.stringContaining('tools, mail, never') }),
    );
  });
});

describe('compose builds', () => {
  const dir = tempProject({ '.devcontainer/Dockerfile': 'FROM scratch', 'worker.Dockerfile': 'FROM scratch' }, 'shop');
  const m = (): ComposeModel => ({
    services: {
      app: { build: { context: dir, dockerfile: '.devcontainer/Dockerfile', args: { A: '1', NULL: null, D: 'x$$y' }, target: 'dev', cache_from: ['type=registry,ref=c'], secrets: [{ source: 'RAILS_MASTER_KEY' }] } },
      worker: { build: { context: dir, dockerfile: 'worker.Dockerfile' } },
      db: { image: 'postgres:16' },
    },
    secrets: { RAILS_MASTER_KEY: { environment: 'RAILS_MASTER_KEY' } },
  });
  const images = { app: 'r/me/shop-dev:t', worker: 'r/me/shop-worker-dev:t' };

  it('gives one build per service with build:, dockerfile relative to the context, args unescaped', () => {
    const model = m();
    expect(composeBuilds(model.services!, model.secrets as never, images, { file: 'c.yml' })).toEqual([
      { service: 'app', context: dir, dockerfile: join(dir, '.devcontainer/Dockerfile'), args: { A: '1', D: 'x$y' }, target: 'dev', secrets: ['RAILS_MASTER_KEY'], cacheFrom: ['type=registry,ref=c'], image: images.app },
      { service: 'worker', context: dir, dockerfile: join(dir, 'worker.Dockerfile'), args: {}, target: undefined, secrets: [], cacheFrom: [], image: images.worker },
    ]);
  });

  it('applies config build: args and target win, secrets add up, platform and registry cache', () => {
    const [app] = composeBuilds(m().services!, m().secrets as never, images, { file: 'c.yml' });
    expect(applyConfigBuild(app, { args: { A: '2' }, secrets: ['EXTRA'], target: 'prod', platform: 'linux/amd64', cache: {} }, 'r/me/shop-dev')).toMatchObject({
      args: { A: '2', D: 'x$y' },
      target: 'prod',
      secrets: ['RAILS_MASTER_KEY', 'EXTRA'],
      platform: 'linux/amd64',
      cacheFrom: ['type=registry,ref=c', 'r/me/shop-dev:buildcache'],
      cacheImage: 'r/me/shop-dev:buildcache',
    });
  });
});

describe('single-service model for image and Dockerfile devcontainers', () => {
  it('mounts the workspace, publishes forwardPorts on loopback, builds the Dockerfile', () => {
    const dir = tempProject({ '.devcontainer/devcontainer.json': '{"build": {"dockerfile": "Dockerfile", "args": {"P": "$x"}}, "forwardPorts": [8080, "db:1"]}', '.devcontainer/Dockerfile': 'FROM scratch' });
    const dc = loadDevcontainer(join(dir, '.devcontainer/devcontainer.json'), dir, {});
    expect(singleServiceModel(dc, dir)).toEqual({
      name: 'app',
      services: {
        app: {
          build: { context: join(dir, '.devcontainer'), dockerfile: 'Dockerfile', args: { P: '$$x' }, target: undefined, cache_from: [] },
          volumes: [bind(dir, '/workspaces/my-app')],
          working_dir: '/workspaces/my-app',
          ports: [{ mode: 'ingress', host_ip: '127.0.0.1', target: 8080, published: '8080', protocol: 'tcp' }],
        },
      },
    });
  });
});

describe('env file sources and placeholders', () => {
  it('reads env_file (string, list, long form) relative to each compose file, in merge order', () => {
    const dir = tempProject({
      'a/compose.yml': 'services:\n  app:\n    env_file: app.env\n    environment: [EXPLICIT=1]\n',
      'b/compose.yml': 'services:\n  app:\n    env_file: [{path: more.env, required: false}, ../a/app.env]\n  db:\n    env_file: [missing.env]\n',
      'a/app.env': '# c\nA=1\nexport B=2\nBARE\n',
      'b/more.env': 'C=3\n',
    });
    expect(readEnvFileSources([join(dir, 'a/compose.yml'), join(dir, 'b/compose.yml')])).toEqual({
      app: { files: [{ path: join(dir, 'a/app.env'), keys: ['A', 'B', 'BARE'] }, { path: join(dir, 'b/more.env'), keys: ['C'] }], explicitKeys: ['EXPLICIT'] },
      db: { files: [], explicitKeys: [] },
    });
  });

  it('maps every secret name to its placeholder', () => {
    expect(placeholderEnv(['A'])).toEqual({ A: '__KAMAL_DEV_SECRET_A__' });
  });
});
