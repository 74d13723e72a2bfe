import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { run } from '../../src/docker/runner';
import { runPlan } from '../../src/cli/commands/plan';
import { isKamalDevError, KamalDevError } from '../../src/errors';
import { resolveSpec } from '../../src/spec/resolve';
import { runInitializeCommand } from '../../src/images/initialize';
import { describeWithLab } from '../support/lab';
import { cleanupProjects, tempProject } from '../support/project';

jest.setTimeout(60_000);

const RAILS = resolve(__dirname, '../../examples/rails');
const env = { PATH: process.env.PATH, HOME: '/home/dev', BASE_IMAGE: 'debian:bookworm-slim' };

async function planJsonOf(projectDir: string, environment: NodeJS.ProcessEnv = env): Promise<Record<string, any>> {
  let text = '';
  const stdout = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
  await runPlan({ projectDir, json: true, tag: 'abc1234', env: environment }, stdout);
  return JSON.parse(text);
}

describeWithLab(['docker'], 'kamal-dev plan on compose devcontainers (real docker compose config)', () => {
  const copies: string[] = [];
  /** examples/rails copied, with a .kamal/secrets (the example only ships secrets.example). */
  function railsWithSecrets(): string {
    const root = mkdtempSync(join(tmpdir(), 'kamal-dev-spec-rails-'));
    copies.push(root);
    const dir = join(root, 'rails');
    cpSync(RAILS, dir, { recursive: true });
    writeFileSync(join(dir, '.kamal/secrets'), 'RAILS_MASTER_KEY=master-value-123\nPOSTGRES_PASSWORD=$(echo pg-value-456)\n');
    return dir;
  }

  afterAll(() => {
    cleanupProjects();
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  it('gives the stable --json document for examples/rails', async () => {
    const json = await planJsonOf(RAILS);
    expect(json).toMatchObject({
      kind: 'compose',
      service: 'rails-app',
      composeFiles: [join(RAILS, '.devcontainer/compose.yaml')],
      build: {
        app: {
          context: RAILS,
          dockerfile: join(RAILS, '.devcontainer/Dockerfile'),
          args: { BASE_IMAGE: 'debian:bookworm-slim', APP_ENV: 'development' },
          target: null,
          secrets: ['RAILS_MASTER_KEY'],
          image: 'localhost:5555/kamal-dev/rails-app-dev:abc1234',
        },
      },
      image: 'localhost:5555/kamal-dev/rails-app-dev:abc1234',
      sync: {
        stackDir: '/opt/kamal-dev/rails-app',
        workspace: { source: RAILS, target: 'workspaces/rails', exclude: ['.kamal', 'node_modules'] },
        files: [{ source: join(RAILS, '.devcontainer/app.env'), target: 'env/1-app.env' }],
        dropped: [],
      },
      vms: [
        { name: 'rails-app-1', index: 1 },
        { name: 'rails-app-2', index: 2 },
      ],
    });
    const { app, db } = json.compose.services;
    expect(json.compose.name).toBe('rails-app');
    expect(app.build).toBeUndefined();
    expect(app.image).toBe('localhost:5555/kamal-dev/rails-app-dev:abc1234');
    expect(app.depends_on).toEqual({ db: { condition: 'service_healthy', required: true } });
    expect(app.env_file).toEqual(['/opt/kamal-dev/rails-app/env/1-app.env']);
    expect(app.environment).toEqual({ PGPASSWORD: 'postgres', RAILS_ENV: 'development', APP_WORKSPACE: '/workspaces/rails-app' });
    expect(app.volumes).toEqual([{ type: 'bind', source: '/opt/kamal-dev/rails-app/workspaces/rails', target: '/workspaces/rails-app', bind: { create_host_path: true } }]);
    expect(db.image).toBe('postgres:16');
    expect(db.healthcheck.test).toEqual(['CMD-SHELL', 'pg_isready -U postgres -d rails_app_development']);
    expect(json.compose.volumes).toEqual({ 'postgres-data': {} });
  });

  it('keeps secret values out: names in the secrets file become ${NAME} in the compose document', async () => {
    const dir = railsWithSecrets();
    const json = await planJsonOf(dir, { ...env, POSTGRES_IMAGE: 'localhost:5556/lab/postgres:15', POSTGRES_PASSWORD: 'env-value-789' });
    const text = JSON.stringify(json);
    for (const value of ['master-value-123', 'pg-value-456', 'env-value-789', '__KAMAL_DEV_SECRET_']) expect(text).not.toContain(value);
    expect(json.compose.services.db.environment.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD}');
    expect(json.compose.services.app.environment.PGPASSWORD).toBe('${POSTGRES_PASSWORD}');
    expect(json.compose.services.db.image).toBe('localhost:5556/lab/postgres:15');
    expect(json.secrets).toEqual(['POSTGRES_PASSWORD']);
  });

  it("names the plain variables it stores, from the environment and from Compose's .env, never a secret", async () => {
    const dir = railsWithSecrets();
    writeFileSync(join(dir, '.devcontainer/.env'), 'POSTGRES_IMAGE=localhost:5556/lab/postgres:15\nPOSTGRES_PASSWORD=dotenv-value-1\n');
    const json = await planJsonOf(dir);
    expect(json.compose.services.db.image).toBe('localhost:5556/lab/postgres:15');
    expect(JSON.stringify(json)).not.toContain('dotenv-value-1');
    expect(json.storedEnvironment).toEqual(['BASE_IMAGE', 'POSTGRES_IMAGE']);
  });

  it('writes a compose file that Compose accepts in the stack folder layout, secrets from an env file', async () => {
    const json = await planJsonOf(railsWithSecrets());
    const stackDir = mkdtempSync(join(tmpdir(), 'kamal-dev-spec-stack-'));
    copies.push(stackDir);
    for (const file of json.sync.files as { source: string; target: string }[]) {
      mkdirSync(dirname(join(stackDir, file.target)), { recursive: true });
      copyFileSync(file.source, join(stackDir, file.target));
    }
    const compose = stringify(json.compose).split(json.sync.stackDir).join(stackDir);
    writeFileSync(join(stackDir, 'compose.yaml'), compose);
    writeFileSync(join(stackDir, 'secrets.env'), 'POSTGRES_PASSWORD=from-secrets-file\n', { mode: 0o600 });
    const { stdout } = await run(['docker', 'compose', '-f', join(stackDir, 'compose.yaml'), '--env-file', join(stackDir, 'secrets.env'), 'config', '--format', 'json']);
    const model = JSON.parse(stdout);
    expect(model.name).toBe('rails-app');
    expect(model.services.app.environment).toMatchObject({ PGHOST: 'db', PGDATABASE: 'rails_app_development', PGPASSWORD: 'from-secrets-file' });
    expect(model.services.db.environment.POSTGRES_PASSWORD).toBe('from-secrets-file');
    expect(Object.keys(model.services)).toEqual(['app', 'db']);
  });

  it('merges several compose files in order, deploys a profiled dependency (without its profiles), maps the ../.. workspace form, drops other binds', async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': '{"dockerComposeFile": ["base.yml", "override.yml"], "service": "web", "runServices": ["web"], "containerEnv": {"X": "1"}}',
      '.devcontainer/base.yml': 'services:\n  web:\n    image: base\n    build: {context: ., dockerfile: web.Dockerfile}\n    volumes: ["../..:/workspaces:cached", "/etc/hosts:/h:ro"]\n  cache:\n    image: redis\n    profiles: [extra]\n  unused:\n    image: busybox\n',
      '.devcontainer/override.yml': 'services:\n  web:\n    depends_on: [cache]\n    environment: {FROM: override}\n  worker:\n    build: {context: ., dockerfile: web.Dockerfile}\n',
      '.devcontainer/web.Dockerfile': 'FROM scratch\n',
      'config/dev.yml': 'service: multi\n',
    });
    const json = await planJsonOf(dir);
    expect(Object.keys(json.compose.services)).toEqual(['cache', 'web']);
    expect(json.compose.services.cache).not.toHaveProperty('profiles');
    expect(json.compose.services.web.environment).toEqual({ FROM: 'override', X: '1' });
    expect(json.compose.services.web.volumes).toEqual([{ type: 'bind', source: '/opt/kamal-dev/multi/workspaces', target: '/workspaces', bind: { create_host_path: true } }]);
    expect(json.sync.dropped).toEqual([{ source: '/etc/hosts', reason: expect.stringContaining('outside the project') }]);
    expect(Object.keys(json.build)).toEqual(['web']);
  });

  it('applies the container keys to the primary service of a compose devcontainer, in a file Compose accepts', async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': JSON.stringify({
        dockerComposeFile: 'compose.yml',
        service: 'app',
        mounts: ['source=keys-gems,target=/gems,type=volume', 'source=/var/run/docker.sock,target=/var/run/docker.sock,type=bind'],
        privileged: true,
        capAdd: ['SYS_PTRACE'],
        securityOpt: ['seccomp=unconfined'],
        init: true,
        containerUser: 'vscode',
        runArgs: ['--shm-size=1g'],
        appPort: 3000,
      }),
      '.devcontainer/compose.yml': 'services:\n  app:\n    image: debian\n    cap_add: [NET_ADMIN]\n    volumes: [cache:/cache]\nvolumes:\n  cache: {}\n',
      'config/dev.yml': 'service: keys\n',
    });
    const json = await planJsonOf(dir);
    const app = json.compose.services.app;
    expect(app).toMatchObject({ privileged: true, cap_add: ['NET_ADMIN', 'SYS_PTRACE'], security_opt: ['seccomp=unconfined'], init: true, user: 'vscode' });
    expect(app.shm_size).toBeUndefined();
    expect(app.ports).toBeUndefined();
    expect(app.volumes).toEqual([expect.objectContaining({ type: 'volume', source: 'cache', target: '/cache' }), { type: 'volume', source: 'keys-gems', target: '/gems' }]);
    expect(Object.keys(json.compose.volumes).sort()).toEqual(['cache', 'keys-gems']);
    expect(json.warnings.map((w: { key: string }) => w.key)).toEqual(['runArgs', 'appPort', 'mounts[1]']);
    const stackDir = mkdtempSync(join(tmpdir(), 'kamal-dev-spec-keys-'));
    copies.push(stackDir);
    writeFileSync(join(stackDir, 'compose.yaml'), stringify(json.compose));
    const { stdout } = await run(['docker', 'compose', '-f', join(stackDir, 'compose.yaml'), 'config', '--format', 'json']);
    expect(JSON.parse(stdout).services.app).toMatchObject({ privileged: true, init: true, user: 'vscode' });
  });

  it('runs initializeCommand before Compose reads the files it writes; plan only says it would', async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': '{"dockerComposeFile": "compose.yml", "service": "app", "initializeCommand": "echo APP_IMAGE=from-initialize > .devcontainer/.env"}',
      '.devcontainer/compose.yml': 'services:\n  app:\n    image: ${APP_IMAGE:?run initializeCommand first}\n',
    });
    await expect(planJsonOf(dir)).rejects.toMatchObject({ kind: 'config', message: expect.stringMatching(/run initializeCommand first/) });
    const ran: string[] = [];
    const spec = await resolveSpec({ projectDir: dir, tag: 't', env, initialize: async (steps, where) => {
      ran.push(...steps.map((s) => ('shell' in s ? s.shell : '')));
      await runInitializeCommand(steps, where);
    } });
    expect(ran).toHaveLength(1);
    expect((spec.plan.stack.compose.services as Record<string, { image: string }>).app.image).toBe('from-initialize');
    expect(spec.plan.stack.initialize).toEqual([{ shell: 'echo APP_IMAGE=from-initialize > .devcontainer/.env' }]);
  });

  it("reports Compose's own errors against the compose file and key", async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': '{"dockerComposeFile": "compose.yml", "service": "app"}',
      '.devcontainer/compose.yml': 'services:\n  app:\n    imagee: x\n',
    });
    const error = await resolveSpec({ projectDir: dir, tag: 't', env }).catch((e: unknown) => e);
    expect(isKamalDevError(error)).toBe(true);
    expect([(error as KamalDevError).file, (error as KamalDevError).key]).toEqual(['.devcontainer/compose.yml', 'services.app']);
    expect((error as KamalDevError).message).toMatch(/imagee is not allowed/);
  });

  it('says when the devcontainer service is not in the compose model', async () => {
    const dir = tempProject({
      '.devcontainer/devcontainer.json': '{"dockerComposeFile": "compose.yml", "service": "app"}',
      '.devcontainer/compose.yml': 'services:\n  web:\n    image: x\n',
    });
    await expect(resolveSpec({ projectDir: dir, tag: 't', env })).rejects.toMatchObject({ file: '.devcontainer/devcontainer.json', key: 'service', message: 'service "app" is not in the compose model' });
  });
});
