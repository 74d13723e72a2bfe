import { cpSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { run } from '../../src/docker/runner';
import { buildImages, removeBuildImages } from '../../src/images/build';
import { localImageId } from '../../src/images/recorded';
import { resolveSpec } from '../../src/spec/resolve';
import { describeWithLab } from '../support/lab';
import { cleanupProjects, tempProject } from '../support/project';

jest.setTimeout(300_000);

const RUN = `features-${process.pid}-${Date.now().toString(36)}`;
const FIXTURES = resolve(__dirname, '../fixtures/features');
const env = { PATH: process.env.PATH, HOME: '/home/dev' };
const REFERENCE_CLI = resolve(__dirname, '../../node_modules/.bin/devcontainer');
const LABEL = 'kamal-dev-test.features';
const INSPECT = 'cat /opt/hello/greeting /opt/tools-saw-greeting /opt/tools-level /opt/hello/users; echo "$HELLO_HOME $TOOLS_LEVEL"; id -un';

/** A project whose .devcontainer holds the test features next to devcontainer.json. */
function project(devcontainer: Record<string, unknown>, files: Record<string, string> = {}): string {
  const dir = tempProject({ '.devcontainer/devcontainer.json': JSON.stringify(devcontainer), 'config/dev.yml': `service: ${RUN}\n`, ...files });
  cpSync(FIXTURES, join(dir, '.devcontainer/features'), { recursive: true });
  return dir;
}

describeWithLab(['docker', 'baseImage'], 'Dev Container Features built into the image (local features)', () => {
  const buildIds: string[] = [];
  const build = async (dir: string, tag: string) => {
    const { plan, warnings } = await resolveSpec({ projectDir: dir, tag, env });
    const buildId = `${RUN}-${buildIds.length}`;
    buildIds.push(buildId);
    return { plan, warnings, images: await buildImages(plan, { buildId, resolveSecret: () => '', checkCredentials: false }) };
  };
  const inImage = async (image: string, script: string) => (await run(['docker', 'run', '--rm', image, 'sh', '-c', script])).stdout.trim();
  const labelOf = async (image: string) => JSON.parse((await run(['docker', 'image', 'inspect', '--format', '{{index .Config.Labels "devcontainer.metadata"}}', image])).stdout);
  const oracles: string[] = [];
  /** The oracle: the reference CLI builds the same devcontainer to the same files, env and metadata label. */
  const expectSameAsReference = async (dir: string, image: string, script: string) => {
    const oracle = `kamal-dev-oracle-${RUN}-${oracles.length}:test`;
    oracles.push(oracle);
    await run([REFERENCE_CLI, 'build', '--workspace-folder', dir, '--image-name', oracle]);
    expect(await inImage(oracle, script)).toBe(await inImage(image, script));
    expect(await labelOf(image)).toEqual(await labelOf(oracle));
  };

  afterAll(async () => {
    const containers = (await run(['docker', 'ps', '-aq', '--filter', `label=${LABEL}=${RUN}`])).stdout.split('\n').filter(Boolean);
    const upImages = await Promise.all(containers.map(async (c) => (await run(['docker', 'inspect', '--format', '{{.Config.Image}}', c])).stdout.trim()));
    if (containers.length) await run(['docker', 'rm', '-f', ...containers]);
    // `up` builds vsc-NAME-HASH-features (and a -uid image on top of it when it updates the remote user's UID).
    for (const upImage of upImages.filter((i) => i.startsWith('vsc-'))) await run(['docker', 'image', 'rm', '-f', upImage, upImage.replace(/-uid$/, '')]).catch(() => undefined);
    for (const id of buildIds) await removeBuildImages(id).catch(() => undefined);
    for (const oracle of oracles) await run(['docker', 'image', 'rm', '-f', oracle]).catch(() => undefined);
    cleanupProjects();
  });

  it('installs the features of an image devcontainer in order, with options, users, env and the metadata label; a rebuild is all cache', async () => {
    const dir = project({
      image: 'debian:bookworm-slim',
      remoteUser: 'nobody',
      features: { './features/tools': { level: 'full' }, './features/hello': { greeting: 'hei', shout: true } },
      overrideFeatureInstallOrder: ['./features/hello', './features/tools'],
      postCreateCommand: 'echo own',
    });
    const { plan, images } = await build(dir, 'one');
    const image = images[0].image;
    expect(image).toBe(`localhost:5555/kamal-dev/${RUN}-dev:one`);
    expect((plan.stack.compose.services as Record<string, { image: string }>).app.image).toBe(image);
    expect(await inImage(image, INSPECT)).toBe(
      'HEI\nHEI\nfull\ncontainer=root remote=nobody remote_home=/nonexistent\n/opt/hello set-by-feature\nroot',
    );
    const label = await labelOf(image);
    expect(label.map((entry: { id?: string }) => entry.id ?? 'devcontainer.json')).toEqual(['./features/hello', './features/tools', 'devcontainer.json']);
    expect(label[0]).toEqual({ id: './features/hello', postCreateCommand: 'echo hello-feature-post-create >> /tmp/feature-hooks' });
    expect(label[2]).toEqual({ remoteUser: 'nobody', postCreateCommand: 'echo own' });
    expect(plan.stack.lifecycle?.postCreate).toEqual([{ shell: 'echo hello-feature-post-create >> /tmp/feature-hooks', feature: 'hello' }, { shell: 'echo own' }]);

    const again = await build(dir, 'two');
    expect(await localImageId(again.images[0].image)).toBe(await localImageId(image));

    await expectSameAsReference(dir, image, INSPECT);

    // The tools feature's entrypoint: the reference CLI's `up` starts its container with the entrypoint the plan deploys, and it runs.
    const entrypoint = ((plan.stack.compose.services as Record<string, { entrypoint: string[] }>).app.entrypoint).map((arg) => arg.split('$$').join('$'));
    await run([REFERENCE_CLI, 'up', '--workspace-folder', dir, '--id-label', `${LABEL}=${RUN}`, '--skip-post-create']);
    const [oracleContainer] = (await run(['docker', 'ps', '-q', '--filter', `label=${LABEL}=${RUN}`])).stdout.split('\n');
    const [inspected] = JSON.parse((await run(['docker', 'inspect', oracleContainer])).stdout) as { Path: string; Args: string[] }[];
    expect([inspected.Path, ...inspected.Args]).toEqual(entrypoint);
    const ours = (await run(['docker', 'run', '-d', '--label', `${LABEL}=${RUN}`, '--entrypoint', entrypoint[0], image, ...entrypoint.slice(1)])).stdout.trim();
    const startedIn = async (container: string) => (await run(['docker', 'exec', container, 'sh', '-c', 'until [ -f /tmp/tools-started ]; do sleep 0.2; done; cat /tmp/tools-started'])).stdout.trim();
    expect(await startedIn(ours)).toBe('started as root');
    expect(await startedIn(oracleContainer)).toBe('started as root');
  });

  it('installs features on the image built from the Dockerfile, keeping its USER', async () => {
    const dir = project(
      { build: { dockerfile: 'Dockerfile' }, features: { './features/hello': {} } },
      { '.devcontainer/Dockerfile': 'FROM debian:bookworm-slim\nRUN echo base > /base\nUSER nobody\n' },
    );
    const { images } = await build(dir, 'df');
    expect(await inImage(images[0].image, 'cat /base /opt/hello/greeting; id -un')).toBe('base\nhello\nnobody');
    await expectSameAsReference(dir, images[0].image, 'cat /base /opt/hello/greeting; echo $HELLO_HOME; id -un');
    // The Dockerfile's image handed its name to the features image: no untagged copy of it stays.
    expect((await run(['docker', 'image', 'ls', '--quiet', '--filter', 'dangling=true', '--filter', `label=kamal-dev.service=${RUN}`])).stdout.trim()).toBe('');
  });

  it("installs features on a compose devcontainer's primary service image, as the reference CLI builds it; the tools entrypoint wraps the image's own, with compose's command", async () => {
    const dir = project(
      {
        dockerComposeFile: 'compose.yml',
        service: 'app',
        workspaceFolder: '/workspace',
        features: { './features/tools': {}, './features/hello': { greeting: 'moi' } },
        overrideFeatureInstallOrder: ['./features/hello'],
        postStartCommand: 'echo own-start',
      },
      {
        '.devcontainer/compose.yml': 'services:\n  app:\n    build: {context: ., dockerfile: Dockerfile}\n    command: sleep infinity\n',
        '.devcontainer/Dockerfile': 'FROM debian:bookworm-slim\nRUN echo base > /base\n',
      },
    );
    const { plan, warnings, images } = await build(dir, 'compose');
    expect(warnings).toEqual([]);
    // Compose names a command and no entrypoint: each VM puts the image's ENTRYPOINT (none here) after the wrapper.
    expect(plan.stack.imageEntrypoint).toEqual({ withCmd: false });
    expect((plan.stack.compose.services as Record<string, Record<string, unknown>>).app).toMatchObject({ entrypoint: ['/bin/sh', '-c', expect.stringContaining('/usr/local/share/tools-init.sh'), '-'], command: ['sleep', 'infinity'] });
    const script = 'cat /base /opt/hello/greeting /opt/tools-saw-greeting; echo "$HELLO_HOME $TOOLS_LEVEL"';
    expect(await inImage(images[0].image, script)).toBe('base\nmoi\nmoi\n/opt/hello set-by-feature');
    expect(plan.stack.lifecycle?.postStart).toEqual([{ shell: 'echo own-start' }]);
    // The reference builds the compose service's own image first, named by Compose's project name.
    oracles.push(`${basename(dir)}_devcontainer-app`);
    await expectSameAsReference(dir, images[0].image, script);
  });

  it('a failing install.sh fails the build naming the feature, with its last output, and leaves no image', async () => {
    const dir = project({ image: 'debian:bookworm-slim', features: { './features/broken': {} } });
    const failure = await build(dir, 'broken').catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'build', exitCode: 1, message: expect.stringMatching(/installing feature broken into the image of service app failed/) });
    expect((failure as Error & { description: string }).description).toMatch(/broken: no network to fetch from/);
    expect(await localImageId(`localhost:5555/kamal-dev/${RUN}-dev:broken`)).toBeUndefined();
  });
});
