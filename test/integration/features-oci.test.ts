import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../../src/docker/runner';
import { buildImages, removeBuildImages } from '../../src/images/build';
import { resolveSpec } from '../../src/spec/resolve';
import { describeWithLab, labInfo } from '../support/lab';
import { cleanupProjects, tempProject } from '../support/project';

jest.setTimeout(300_000);

const RUN = `oci-${process.pid}-${Date.now().toString(36)}`;
const FIXTURES = resolve(__dirname, '../fixtures/features');
const REFERENCE_CLI = resolve(__dirname, '../../node_modules/.bin/devcontainer');
const ORACLE_IMAGE = `kamal-dev-oracle-${RUN}:test`;
const INSPECT = 'cat /opt/hello/greeting /opt/tools-saw-greeting /opt/tools-level /opt/hello/users; echo "$HELLO_HOME $TOOLS_LEVEL"; id -un';
const NAMESPACE = `kamal-dev-test/${RUN}`;

describeWithLab(['docker', 'baseImage', 'registry'], 'Dev Container Features from an OCI registry (published to the lab registry by the reference CLI)', () => {
  const registry = () => labInfo<{ address: string; username: string; password: string }>('registry');
  const hello = () => `${registry().address}/${NAMESPACE}/hello`;
  const tools = () => `${registry().address}/${NAMESPACE}/tools`;
  const cache = mkdtempSync(join(tmpdir(), 'kamal-dev-feature-cache-'));
  const referenceEnv = () => ({ DEVCONTAINERS_OCI_AUTH: `${registry().address}|${registry().username}|${registry().password}` });
  const env = () => ({ PATH: process.env.PATH, HOME: '/home/dev', XDG_CACHE_HOME: cache, FEATURES_USER: registry().username, FEATURES_PASSWORD: registry().password });
  const config = () => `service: ${RUN}\nregistry:\n  server: ${registry().address}\n  namespace: kamal-dev-test\n  username_env: FEATURES_USER\n  password_env: FEATURES_PASSWORD\n`;
  const project = (devcontainer: Record<string, unknown>) => tempProject({ '.devcontainer/devcontainer.json': JSON.stringify(devcontainer), 'config/dev.yml': config() });
  const inImage = async (image: string, script: string) => (await run(['docker', 'run', '--rm', image, 'sh', '-c', script])).stdout.trim();
  const label = async (image: string) => JSON.parse((await run(['docker', 'image', 'inspect', '--format', '{{index .Config.Labels "devcontainer.metadata"}}', image])).stdout);
  const buildId = `${RUN}-build`;

  beforeAll(async () => {
    const collection = mkdtempSync(join(tmpdir(), 'kamal-dev-feature-collection-'));
    for (const name of ['hello', 'tools']) cpSync(join(FIXTURES, name), join(collection, 'src', name), { recursive: true });
    await run([REFERENCE_CLI, 'features', 'publish', '--registry', registry().address, '--namespace', NAMESPACE, join(collection, 'src')], { env: referenceEnv() });
    rmSync(collection, { recursive: true, force: true });
  });

  afterAll(async () => {
    await removeBuildImages(buildId).catch(() => undefined);
    await run(['docker', 'image', 'rm', '-f', ORACLE_IMAGE]).catch(() => undefined);
    for (const repository of [`${NAMESPACE}/hello`, `${NAMESPACE}/tools`, NAMESPACE]) await deleteRepository(repository).catch(() => undefined);
    rmSync(cache, { recursive: true, force: true });
    cleanupProjects();
  });

  it('fetches, locks and installs OCI features with the registry credentials; the reference CLI builds the same files, env, label and lock file', async () => {
    const dir = project({
      image: 'debian:bookworm-slim',
      remoteUser: 'nobody',
      features: { [`${tools()}:0.1.0`]: { level: 'full' }, [`${hello()}:1`]: { greeting: 'hei', shout: true } },
      overrideFeatureInstallOrder: [hello(), tools()],
      postCreateCommand: 'echo own',
    });
    const oracleDir = join(dir, '..', 'oracle');
    cpSync(dir, oracleDir, { recursive: true });
    const { plan } = await resolveSpec({ projectDir: dir, tag: 'oci', env: env(), writeLockfile: true });
    const [built] = await buildImages(plan, { buildId, resolveSecret: () => '', checkCredentials: false });
    expect(await inImage(built.image, INSPECT)).toBe('HEI\nHEI\nfull\ncontainer=root remote=nobody remote_home=/nonexistent\n/opt/hello set-by-feature\nroot');
    const ours = await label(built.image);
    expect(ours.map((entry: { id?: string }) => entry.id ?? 'devcontainer.json')).toEqual([`${hello()}:1`, `${tools()}:0.1.0`, 'devcontainer.json']);
    expect(plan.stack.lifecycle?.postCreate).toEqual([{ shell: 'echo hello-feature-post-create >> /tmp/feature-hooks', feature: 'hello' }, { shell: 'echo own' }]);
    const lock = JSON.parse(readFileSync(join(dir, '.devcontainer/devcontainer-lock.json'), 'utf8'));
    expect(lock.features[`${hello()}:1`]).toEqual({ version: '1.2.0', resolved: expect.stringMatching(new RegExp(`^${hello()}@sha256:[0-9a-f]{64}$`)), integrity: expect.stringMatching(/^sha256:/) });

    await run([REFERENCE_CLI, 'build', '--workspace-folder', oracleDir, '--image-name', ORACLE_IMAGE], { env: referenceEnv() });
    expect(await inImage(ORACLE_IMAGE, INSPECT)).toBe(await inImage(built.image, INSPECT));
    expect(ours).toEqual(await label(ORACLE_IMAGE));
    expect(readFileSync(join(dir, '.devcontainer/devcontainer-lock.json'), 'utf8')).toBe(readFileSync(join(oracleDir, '.devcontainer/devcontainer-lock.json'), 'utf8'));
  });

  it.each([
    ['a tag the registry does not have', (dir: string) => dir, () => `${hello()}:9`, /is not in the registry .* \(HTTP 404\)/],
    ['a wrong password', (dir: string) => (writeFileSync(join(dir, 'config/dev.yml'), config().replace('FEATURES_PASSWORD', 'WRONG_PASSWORD')), dir), () => `${hello()}:1`, /refused access|refused the credentials/],
    [
      'a lock file pinning a digest the registry does not have',
      (dir: string) => (writeFileSync(join(dir, '.devcontainer/devcontainer-lock.json'), JSON.stringify({ features: { [`${hello()}:1`]: { version: '1.2.0', resolved: '', integrity: `sha256:${'0'.repeat(64)}` } } })), dir),
      () => `${hello()}:1`,
      /is not in the registry/,
    ],
  ])('refuses %s before any build, naming the feature key (exit 2)', async (_name, prepare, ref, message) => {
    const dir = prepare(project({ image: 'debian:bookworm-slim', features: { [ref()]: {} } }));
    const error = await resolveSpec({ projectDir: dir, tag: 'bad', env: { ...env(), WRONG_PASSWORD: 'not-the-password' } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ exitCode: 2, file: '.devcontainer/devcontainer.json', key: `features.${ref()}`, message: expect.stringMatching(message) });
  });

  /** Deletes every tag's manifest of a repository this test published (the lab registry allows deletes). */
  async function deleteRepository(repository: string): Promise<void> {
    const base = `http://127.0.0.1:${registry().address.split(':')[1]}/v2/${repository}`;
    const auth = { Authorization: `Basic ${Buffer.from(`${registry().username}:${registry().password}`).toString('base64')}` };
    const { tags } = (await (await fetch(`${base}/tags/list`, { headers: auth })).json()) as { tags?: string[] };
    const accept = 'application/vnd.oci.image.manifest.v1+json';
    const digests = new Set<string>();
    for (const tag of tags ?? []) digests.add((await fetch(`${base}/manifests/${tag}`, { method: 'HEAD', headers: { ...auth, Accept: accept } })).headers.get('docker-content-digest') ?? '');
    for (const digest of [...digests].filter(Boolean)) await fetch(`${base}/manifests/${digest}`, { method: 'DELETE', headers: auth });
  }
});
