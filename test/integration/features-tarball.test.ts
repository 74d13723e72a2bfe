import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { run } from '../../src/docker/runner';
import { removeBuildImages } from '../../src/images/build';
import { readLastBuild } from '../../src/images/last-build';
import { kamalDev } from '../support/kamal-dev';
import { describeWithLab } from '../support/lab';
import { cleanupProjects, tempProject } from '../support/project';

jest.setTimeout(300_000);

const RUN = `tgz-${process.pid}-${Date.now().toString(36)}`;
const FIXTURES = resolve(__dirname, '../fixtures/features');
const REFERENCE_CLI = resolve(__dirname, '../../node_modules/.bin/devcontainer');
const ORACLE_IMAGE = `kamal-dev-oracle-${RUN}:test`;
const INSPECT = 'cat /opt/hello/greeting /opt/hello/users; echo "$HELLO_HOME"; id -un';

/**
 * Features referenced as tarball URLs, served over https by a real server the test starts (its
 * certificate trusted through NODE_EXTRA_CA_CERTS, by kamal-dev's CLI and the reference CLI alike),
 * the tarball made by the reference CLI's own `features package`.
 */
describeWithLab(['docker', 'baseImage'], 'Dev Container Features from tarball URLs', () => {
  const work = mkdtempSync(join(tmpdir(), 'kamal-dev-tarball-'));
  const served = new Map<string, Buffer>();
  let server: Server;
  let base = '';
  const url = (name: string) => `${base}/releases/${name}`;
  const env = () => ({ NODE_EXTRA_CA_CERTS: join(work, 'cert.pem'), XDG_CACHE_HOME: join(work, 'cache') });
  const buildIds: string[] = [];

  const project = (features: Record<string, unknown>) =>
    tempProject({
      '.devcontainer/devcontainer.json': JSON.stringify({ image: 'debian:bookworm-slim', remoteUser: 'nobody', features, postCreateCommand: 'echo own' }),
      'config/dev.yml': `service: ${RUN}\n`,
    });
  const inImage = async (image: string) => (await run(['docker', 'run', '--rm', image, 'sh', '-c', INSPECT])).stdout.trim();
  const label = async (image: string) => JSON.parse((await run(['docker', 'image', 'inspect', '--format', '{{index .Config.Labels "devcontainer.metadata"}}', image])).stdout);
  const pack = async (feature: string, edit?: (dir: string) => void) => {
    const dir = mkdtempSync(join(work, 'feature-'));
    cpSync(join(FIXTURES, feature), join(dir, feature), { recursive: true });
    edit?.(join(dir, feature));
    await run([REFERENCE_CLI, 'features', 'package', join(dir, feature), '-o', join(dir, 'out')]);
    return readFileSync(join(dir, 'out', `devcontainer-feature-${feature}.tgz`));
  };

  beforeAll(async () => {
    await run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(work, 'key.pem'), '-out', join(work, 'cert.pem')]);
    served.set('/releases/devcontainer-feature-hello.tgz', await pack('hello'));
    served.set('/releases/devcontainer-feature-junk.tgz', Buffer.from('<html>not a feature</html>\n'));
    server = createServer({ key: readFileSync(join(work, 'key.pem')), cert: readFileSync(join(work, 'cert.pem')) }, (request, response) => {
      const body = served.get(request.url ?? '');
      response.writeHead(body ? 200 : 404).end(body ?? 'not found');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const buildId of buildIds) await removeBuildImages(buildId).catch(() => undefined);
    await run(['docker', 'image', 'rm', '-f', ORACLE_IMAGE]).catch(() => undefined);
    await new Promise((done) => server?.close(done));
    rmSync(work, { recursive: true, force: true });
    cleanupProjects();
  });

  it('fetches, locks and installs a tarball feature; the reference CLI builds the same files, env, label and lock file; a changed tarball is refused', async () => {
    const ref = url('devcontainer-feature-hello.tgz');
    const dir = project({ [ref]: { greeting: 'moi', shout: true } });
    const oracleDir = join(dir, '..', 'oracle');
    cpSync(dir, oracleDir, { recursive: true });

    const built = await kamalDev(['build', '--tag', 'tgz', '--json'], { cwd: dir, env: env() });
    expect(built).toMatchObject({ code: 0 });
    buildIds.push(readLastBuild(dir)!.buildId);
    const [image] = (JSON.parse(built.stdout) as { images: { image: string }[] }).images;
    expect(await inImage(image.image)).toBe('MOI\ncontainer=root remote=nobody remote_home=/nonexistent\n/opt/hello\nroot');
    const lock = readFileSync(join(dir, '.devcontainer/devcontainer-lock.json'), 'utf8');
    expect(JSON.parse(lock).features[ref]).toEqual({ version: '1.2.0', resolved: ref, integrity: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });

    await run([REFERENCE_CLI, 'build', '--workspace-folder', oracleDir, '--image-name', ORACLE_IMAGE], { env: env() });
    expect(await inImage(ORACLE_IMAGE)).toBe(await inImage(image.image));
    expect(await label(image.image)).toEqual(await label(ORACLE_IMAGE));
    expect(lock).toBe(readFileSync(join(oracleDir, '.devcontainer/devcontainer-lock.json'), 'utf8'));

    // The URL now serves other bytes: the lock file's pin refuses them, before any build.
    served.set('/releases/devcontainer-feature-hello.tgz', await pack('hello', (d) => writeFileSync(join(d, 'install.sh'), `${readFileSync(join(d, 'install.sh'), 'utf8')}echo changed\n`)));
    const changed = await kamalDev(['plan'], { cwd: dir, env: env() });
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain(`features.${ref}`);
    expect(changed.stderr).toMatch(/is now sha256:[0-9a-f]{64}, not the pinned sha256:/);
    expect(changed.stderr).toContain('delete its entry there to take the tarball as it is now');
    expect(changed.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    ['a URL the server does not have', () => url('devcontainer-feature-gone.tgz'), {}, /answered HTTP 404/],
    ['a file that is not a tarball', () => url('devcontainer-feature-junk.tgz'), {}, /it is not a tar archive of a feature/],
    ['a server whose certificate is not trusted', () => url('devcontainer-feature-hello.tgz'), { NODE_EXTRA_CA_CERTS: '' }, /cannot be reached: .*(SELF_SIGNED|UNABLE_TO_VERIFY)/],
  ])('refuses %s before any build: exit 2 naming features.<url> in devcontainer.json', async (_name, ref, extraEnv, message) => {
    const dir = project({ [ref()]: {} });
    const result = await kamalDev(['plan'], { cwd: dir, env: { ...env(), ...extraEnv } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('.devcontainer/devcontainer.json');
    expect(result.stderr).toContain(`features.${ref()}`);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
