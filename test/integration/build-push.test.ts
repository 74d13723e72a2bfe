import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltImage } from '../../src/domain/images';
import { BuildEvent } from '../../src/docker/build-progress';
import { buildImages, removeBuildImages } from '../../src/images/build';
import { readJournal } from '../../src/images/build-journal';
import { ImageError } from '../../src/images/errors';
import { readLastBuild } from '../../src/images/last-build';
import { pushImages } from '../../src/images/push';
import { localImageId } from '../../src/images/recorded';
import { ensureLocalRegistry, localRegistryName, removeLocalRegistryArgv } from '../../src/registry/local';
import type { DeployPlan, ImageBuild, RegistryPlan } from '../../src/spec/plan';
import { sh } from '../lab/exec';
import { ensureRegistryImage } from '../lab/parts/registry';
import { buildPlan, resolverWith } from '../support/build-plan';
import { describeWithLab, labInfo } from '../support/lab';

jest.setTimeout(300_000);

interface LabRegistry {
  address: string;
  username: string;
  password: string;
}

const FIXTURES = join(__dirname, '..', 'fixtures');
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const SECRET_VALUE = `build-test-secret-${RUN}-Zq9`;
const GREETING = `hello $(not a command) "quoted" ${RUN}`;
const buildIds: string[] = [];
const tmpDirs: string[] = [];

function newBuildId(name: string): string {
  const id = `build-test-${name}-${RUN}`;
  buildIds.push(id);
  return id;
}

function projectFrom(fixture: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-build-test-'));
  tmpDirs.push(dir);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  return dir;
}

function planFor(dir: string, registry: RegistryPlan, build: Partial<ImageBuild> = {}): DeployPlan {
  return buildPlan(dir, registry, RUN, { args: { GREETING }, secrets: ['BUILD_TEST_TOKEN'], ...build });
}

const labRegistryPlan = (registry: LabRegistry): RegistryPlan => ({
  server: registry.address,
  namespace: 'build-test',
  local: false,
  usernameSecret: 'LAB_REGISTRY_USER',
  passwordSecret: 'LAB_REGISTRY_PASSWORD',
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

afterAll(async () => {
  for (const id of buildIds) await removeBuildImages(id).catch(() => undefined);
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

describeWithLab(['registry'], 'build and push against the real engine and registry', () => {
  const registry = () => labInfo<LabRegistry>('registry');
  const secrets = () =>
    resolverWith({ BUILD_TEST_TOKEN: SECRET_VALUE, LAB_REGISTRY_USER: registry().username, LAB_REGISTRY_PASSWORD: registry().password });
  let dir: string;
  let built: BuiltImage[];

  beforeAll(async () => {
    dir = projectFrom('build-app');
    const events: BuildEvent[] = [];
    built = await buildImages(planFor(dir, labRegistryPlan(registry())), {
      buildId: newBuildId('app'),
      resolveSecret: secrets(),
      onEvent: (_service, event) => events.push(event),
    });
    expect(events.filter((e) => e.type === 'step' && e.step.index !== undefined).map((e) => e.step.index).sort()).toEqual([1, 2, 3, 4]);
  });

  it('applies the build arg, mounts the secret, labels the image and records the build', async () => {
    const image = built[0].image;
    const out = await sh(['docker', 'run', '--rm', '--label', 'kamal-dev.lab=build-test', image, 'sh', '-c', 'cat /greeting; echo; cat /secret-length']);
    expect(out).toBe(`${GREETING}\n${SECRET_VALUE.length}`);
    const labels = JSON.parse(await sh(['docker', 'image', 'inspect', '--format', '{{json .Config.Labels}}', image]));
    expect(labels).toMatchObject({ 'kamal-dev.service': 'build-test', 'kamal-dev.compose-service': 'app' });
    expect(built[0].imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readLastBuild(dir)).toMatchObject({ buildId: buildIds[0], tag: RUN, images: built });
  });

  it('leaves the secret value in no layer and no history', async () => {
    const tar = join(dir, 'image.tar');
    await sh(['docker', 'image', 'save', '--output', tar, built[0].image]);
    const saved = readFileSync(tar);
    expect(saved.length).toBeGreaterThan(1_000_000);
    expect(saved.includes(Buffer.from(GREETING))).toBe(true); // the search itself works: the arg is in there
    expect(saved.includes(Buffer.from(SECRET_VALUE))).toBe(false);
    const history = await sh(['docker', 'history', '--no-trunc', '--format', '{{.CreatedBy}}', built[0].image]);
    expect(history).toContain('BUILD_TEST_TOKEN');
    expect(history).not.toContain(SECRET_VALUE);
    expect(await sh(['docker', 'image', 'inspect', built[0].image])).not.toContain(SECRET_VALUE);
  });

  it('reuses the last build of unchanged source without running buildx; a .dockerignore\'d file changes nothing', async () => {
    writeFileSync(join(dir, '.dockerignore'), 'scratch-notes.txt\n');
    writeFileSync(join(dir, 'scratch-notes.txt'), 'not part of the image\n');
    // The first build read no .dockerignore: its key differs, so this one runs (all cached).
    await buildImages(planFor(dir, labRegistryPlan(registry())), { buildId: newBuildId('ignore'), resolveSecret: secrets() });
    writeFileSync(join(dir, 'scratch-notes.txt'), 'still not part of the image\n');
    const events: BuildEvent[] = [];
    const reused = await buildImages(planFor(dir, labRegistryPlan(registry())), {
      buildId: newBuildId('reuse'),
      resolveSecret: secrets(),
      onEvent: (_service, event) => events.push(event),
    });
    expect(events).toEqual([]);
    expect(reused).toEqual([{ ...built[0], reused: true }]);
    expect(readJournal(buildIds.at(-1)!)).toEqual([]); // nothing written: no compensation can touch the image
  });

  it('shows cached steps when a build arg changes back and forth, and makes the same image', async () => {
    const plan = planFor(dir, labRegistryPlan(registry()));
    const [other] = await buildImages({ ...plan, builds: [{ ...plan.builds[0], args: { GREETING: `${GREETING} again` } }] }, { buildId: newBuildId('other-arg'), resolveSecret: secrets() });
    expect(other.reused).toBeUndefined();
    const events: BuildEvent[] = [];
    await buildImages(plan, {
      buildId: newBuildId('rebuild'),
      resolveSecret: secrets(),
      onEvent: (_service, event) => events.push(event),
    });
    const cached = events.filter((e) => e.type === 'cached' && e.step.index !== undefined).map((e) => e.step.index);
    expect(cached.sort()).toEqual([2, 3, 4]);
    // The same image id: a redeploy of unchanged source leaves the VMs' containers as they are.
    expect(readLastBuild(dir)!.images[0].imageId).toBe(built[0].imageId);
    built = readLastBuild(dir)!.images;
    await sh(['docker', 'image', 'rm', other.imageId]); // its name moved on: no journal undoes it
  });

  it('pushes to the htpasswd registry and verifies the manifest', async () => {
    const layers: string[] = [];
    const pushed = await pushImages(planFor(dir, labRegistryPlan(registry())), built, {
      resolveSecret: secrets(),
      onEvent: (_image, event) => event.type === 'layer' && layers.push(event.status),
    });
    expect(pushed).toEqual([{ image: built[0].image, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) }]);
    expect(layers).toEqual(expect.arrayContaining([expect.stringMatching(/Pushed|Layer already exists/)]));
    const manifest = await fetch(`http://127.0.0.1:${registry().address.split(':')[1]}/v2/build-test/app/manifests/${RUN}`, {
      method: 'HEAD',
      headers: {
        Accept: 'application/vnd.docker.distribution.manifest.v2+json',
        Authorization: `Basic ${Buffer.from(`${registry().username}:${registry().password}`).toString('base64')}`,
      },
    });
    expect(manifest.headers.get('docker-content-digest')).toBe(pushed[0].digest);
  });

  it('with a build cache, imports the pushed image\'s layers and pushes an inline cache', async () => {
    const plan = planFor(dir, labRegistryPlan(registry()), { cacheFrom: [built[0].image], image: `${registry().address}/build-test/app:${RUN}-cached` });
    const events: BuildEvent[] = [];
    const cachedBuild = await buildImages(plan, { buildId: newBuildId('cache'), resolveSecret: secrets(), onEvent: (_s, e) => events.push(e) });
    expect(events.some((e) => e.type === 'step' && e.step.name.startsWith('importing cache manifest from'))).toBe(true);
    expect(events.filter((e) => e.type === 'warning')).toEqual([]); // the cache image in the private registry was readable
    await pushImages(plan, cachedBuild, { resolveSecret: secrets() });
    const auth = { Authorization: `Basic ${Buffer.from(`${registry().username}:${registry().password}`).toString('base64')}` };
    const base = `http://127.0.0.1:${registry().address.split(':')[1]}/v2/build-test/app`;
    const manifest = await (
      await fetch(`${base}/manifests/${RUN}-cached`, { headers: { ...auth, Accept: 'application/vnd.docker.distribution.manifest.v2+json' } })
    ).json() as { config: { digest: string } };
    const config = await (await fetch(`${base}/blobs/${manifest.config.digest}`, { headers: auth })).json();
    expect(config).toHaveProperty(['moby.buildkit.cache.v0']);
  });

  it('fails a wrong password once, clearly, and not retryably', async () => {
    const wrong = resolverWith({ LAB_REGISTRY_USER: registry().username, LAB_REGISTRY_PASSWORD: 'not-the-password' });
    const error = await pushImages(planFor(dir, labRegistryPlan(registry())), built, { resolveSecret: wrong }).catch((e) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({ type: 'RegistryAuthFailed', retryable: false });
    expect(error.message).toBe(`the registry ${registry().address} refused logging in to ${registry().address} as lab-user: wrong credentials or no access`);
    expect(error.description).not.toContain('not-the-password');
  });

  it('says a registry that is down is retryable', async () => {
    const server = `localhost:${await closedPort()}`;
    const plan = planFor(dir, { ...labRegistryPlan(registry()), server });
    const error = await pushImages(plan, built, { resolveSecret: secrets() }).catch((e) => e);
    expect(error).toMatchObject({ type: 'RegistryUnavailable', retryable: true });
    expect(error.message).toContain(server);
    expect(await sh(['docker', 'image', 'ls', '--quiet', `${server}/build-test/app`])).toBe(''); // the tag it made is gone
  });

  it('refuses to build without registry credentials, before any work', async () => {
    const buildId = newBuildId('nocreds');
    const error = await buildImages(planFor(dir, labRegistryPlan(registry())), {
      buildId,
      resolveSecret: resolverWith({ BUILD_TEST_TOKEN: SECRET_VALUE, LAB_REGISTRY_USER: 'u' }),
    }).catch((e) => e);
    expect(error).toMatchObject({ type: 'RegistryCredentialsMissing', file: join(dir, '.kamal', 'secrets') });
    expect(error.message).toContain('LAB_REGISTRY_PASSWORD');
    expect(await localImageId(built[0].image)).toBe(built[0].imageId);
  });

  it('says which Dockerfile is missing, before any work', async () => {
    const error = await buildImages(planFor(dir, labRegistryPlan(registry()), { dockerfile: join(dir, 'Nope.Dockerfile') }), {
      buildId: newBuildId('nodockerfile'),
      resolveSecret: secrets(),
    }).catch((e) => e);
    expect(error).toMatchObject({ type: 'DockerfileMissing', kind: 'config', file: join(dir, 'Nope.Dockerfile') });
  });
});

describeWithLab(['baseImage'], 'a build that fails or is cancelled', () => {
  const local: RegistryPlan = { server: 'localhost:5565', namespace: 'build-test', local: true };

  it('names the failing step with its last output, and leaves no image of that build', async () => {
    const dir = projectFrom('build-fail');
    const buildId = newBuildId('fail');
    const plan = planFor(dir, local, { args: {}, secrets: [] });
    const error = await buildImages(plan, { buildId, resolveSecret: resolverWith({}) }).catch((e) => e);
    expect(error).toMatchObject({ type: 'BuildFailed', retryable: false, file: join(dir, 'Dockerfile') });
    expect(error.message).toBe('building the image of service app failed at step [3/4] RUN echo "compiling widgets"; echo "widget.c:3: error: expected \';\'" >&2; exit 7');
    expect(error.description).toContain("widget.c:3: error: expected ';'");
    expect(error.description).toContain('exit code: 7');
    expect(await localImageId(plan.builds[0].image)).toBeUndefined();
    expect(readJournal(buildId)).toEqual([]);
  });

  it('stops the build when cancelled and leaves no image of it', async () => {
    const dir = projectFrom('build-fail');
    const buildId = newBuildId('cancel');
    const controller = new AbortController();
    const build = planFor(dir, local, { args: {}, secrets: [] });
    writeFileSync(build.builds[0].dockerfile, `FROM debian:bookworm-slim\nRUN echo ${RUN} && sleep 60\n`);
    const started = Date.now();
    const error = await buildImages(build, {
      buildId,
      resolveSecret: resolverWith({}),
      signal: controller.signal,
      onEvent: (_s, event) => event.type === 'step' && event.step.name.includes('sleep 60') && controller.abort(),
    }).catch((e) => e);
    expect(error.name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await localImageId(build.builds[0].image)).toBeUndefined();
  });

  it('undoing a build gives the name back to the image it held before; the new image is gone', async () => {
    const dir = projectFrom('build-fail');
    const build = planFor(dir, local, { args: {}, secrets: [] });
    const ref = build.builds[0].image;
    writeFileSync(build.builds[0].dockerfile, `FROM debian:bookworm-slim\nRUN echo ${RUN}-before\n`);
    const [before] = await buildImages(build, { buildId: newBuildId('before'), resolveSecret: resolverWith({}) });
    writeFileSync(build.builds[0].dockerfile, `FROM debian:bookworm-slim\nRUN echo ${RUN}-after\n`);
    const afterId = newBuildId('after');
    const [after] = await buildImages(build, { buildId: afterId, resolveSecret: resolverWith({}) });
    expect(after.imageId).not.toBe(before.imageId);
    expect(await removeBuildImages(afterId)).toEqual([ref]);
    expect(await localImageId(ref)).toBe(before.imageId);
    expect(await localImageId(after.imageId)).toBeUndefined();
    await sh(['docker', 'image', 'rm', ref]); // the first build is the test's own: no journal undoes it now
  });
});

describeWithLab(['baseImage'], 'local registry mode', () => {
  const port = 5565;
  const server = `localhost:${port}`;

  afterAll(async () => {
    // The test pulls the pushed image back: that tag is its own, no build journal knows it.
    await sh(['docker', 'image', 'rm', `${server}/build-test/app:${RUN}`]).catch(() => undefined);
    await sh(removeLocalRegistryArgv(port)).catch(() => undefined);
  });

  it('starts a registry on loopback, pushes to it without login and pulls the image back', async () => {
    const image = await ensureRegistryImage();
    const first = await ensureLocalRegistry({ port, image });
    expect(first.address).toBe(server);
    expect(await ensureLocalRegistry({ port, image })).toEqual({ address: server, started: false });
    const dir = projectFrom('build-app');
    const plan = planFor(dir, { server, namespace: 'build-test', local: true });
    const built = await buildImages(plan, { buildId: newBuildId('local'), resolveSecret: resolverWith({ BUILD_TEST_TOKEN: SECRET_VALUE }) });
    const pushed = await pushImages(plan, built, { resolveSecret: resolverWith({}), localRegistryImage: image });
    expect(pushed[0].image).toBe(`${server}/build-test/app:${RUN}`);
    // Stopped (a reboot, a crash): started again, not replaced, so what was pushed is still there.
    await sh(['docker', 'stop', localRegistryName(port)]);
    expect(await ensureLocalRegistry({ port, image })).toEqual({ address: server, started: true });
    await sh(['docker', 'image', 'rm', pushed[0].image]);
    await sh(['docker', 'pull', pushed[0].image]);
    expect(await sh(['docker', 'image', 'inspect', '--format', '{{.Id}}', pushed[0].image])).toBe(built[0].imageId);
  });
});
