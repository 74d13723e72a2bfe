import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
const ORACLE_IMAGE = `kamal-dev-oracle-${RUN}:test`;
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
    const { plan } = await resolveSpec({ projectDir: dir, tag, env });
    const buildId = `${RUN}-${buildIds.length}`;
    buildIds.push(buildId);
    return { plan, images: await buildImages(plan, { buildId, resolveSecret: () => '', checkCredentials: false }) };
  };
  const inImage = async (image: string, script: string) => (await run(['docker', 'run', '--rm', image, 'sh', '-c', script])).stdout.trim();

  afterAll(async () => {
    for (const id of buildIds) await removeBuildImages(id).catch(() => undefined);
    await run(['docker', 'image', 'rm', '-f', ORACLE_IMAGE]).catch(() => undefined);
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
    const label = JSON.parse((await run(['docker', 'image', 'inspect', '--format', '{{index .Config.Labels "devcontainer.metadata"}}', image])).stdout);
    expect(label.map((entry: { id?: string }) => entry.id ?? 'devcontainer.json')).toEqual(['./features/hello', './features/tools', 'devcontainer.json']);
    expect(label[0]).toEqual({ id: './features/hello', postCreateCommand: 'echo hello-feature-post-create >> /tmp/feature-hooks' });
    expect(label[2]).toEqual({ remoteUser: 'nobody', postCreateCommand: 'echo own' });
    expect(plan.stack.lifecycle?.postCreate).toEqual([{ shell: 'echo hello-feature-post-create >> /tmp/feature-hooks', feature: 'hello' }, { shell: 'echo own' }]);

    const again = await build(dir, 'two');
    expect(await localImageId(again.images[0].image)).toBe(await localImageId(image));

    // The oracle: the reference CLI builds the same devcontainer to the same files, env, label and hook order.
    await run([REFERENCE_CLI, 'build', '--workspace-folder', dir, '--image-name', ORACLE_IMAGE]);
    expect(await inImage(ORACLE_IMAGE, INSPECT)).toBe(await inImage(image, INSPECT));
    const oracleLabel = JSON.parse((await run(['docker', 'image', 'inspect', '--format', '{{index .Config.Labels "devcontainer.metadata"}}', ORACLE_IMAGE])).stdout);
    expect(label).toEqual(oracleLabel);
  });

  it('installs features on the image built from the Dockerfile, keeping its USER', async () => {
    const dir = project(
      { build: { dockerfile: 'Dockerfile' }, features: { './features/hello': {} } },
      { '.devcontainer/Dockerfile': 'FROM debian:bookworm-slim\nRUN echo base > /base\nUSER nobody\n' },
    );
    const { images } = await build(dir, 'df');
    expect(await inImage(images[0].image, 'cat /base /opt/hello/greeting; id -un')).toBe('base\nhello\nnobody');
    // The Dockerfile's image handed its name to the features image: no untagged copy of it stays.
    expect((await run(['docker', 'image', 'ls', '--quiet', '--filter', 'dangling=true', '--filter', `label=kamal-dev.service=${RUN}`])).stdout.trim()).toBe('');
  });

  it('a failing install.sh fails the build naming the feature, with its last output, and leaves no image', async () => {
    const dir = project({ image: 'debian:bookworm-slim', features: { './features/broken': {} } });
    const failure = await build(dir, 'broken').catch((e: unknown) => e);
    expect(failure).toMatchObject({ kind: 'build', exitCode: 1, message: expect.stringMatching(/installing feature broken into the image of service app failed/) });
    expect((failure as Error & { description: string }).description).toMatch(/broken: no network to fetch from/);
    expect(await localImageId(`localhost:5555/kamal-dev/${RUN}-dev:broken`)).toBeUndefined();
  });
});
