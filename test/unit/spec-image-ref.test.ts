import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyComposeConfigError, composeConfigArgv } from '../../src/docker/compose-config';
import { imageRef, imageRepository, isValidReference, isValidTag, normalizeRegistryServer, repositoryComponent } from '../../src/spec/image-ref';
import { computeTag, timestampTag } from '../../src/spec/tag';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

describe('image references', () => {
  it('normalises registry servers, Docker Hub included', () => {
    for (const hub of ['docker.io', 'hub.docker.com', 'https://index.docker.io/', 'registry-1.docker.io', 'Registry.Hub.Docker.com']) expect(normalizeRegistryServer(hub)).toBe('docker.io');
    expect(normalizeRegistryServer('GHCR.io')).toBe('ghcr.io');
    expect(normalizeRegistryServer('http://localhost:5556/')).toBe('localhost:5556');
  });

  it('builds {registry}/{user}/{service}-dev:{tag}, lowercased, and -{composeService}-dev for other built services', () => {
    const input = { server: 'ghcr.io', namespace: 'Octo', service: 'shop' };
    expect(imageRef(imageRepository(input, 'app', true), 'abc1234')).toBe('ghcr.io/octo/shop-dev:abc1234');
    expect(imageRef(imageRepository(input, 'Sidekiq_Worker', false), 'abc1234')).toBe('ghcr.io/octo/shop-sidekiq_worker-dev:abc1234');
    expect(imageRepository({ ...input, imageName: 'Octo/Store' }, 'app', true)).toBe('ghcr.io/octo/store');
    expect(imageRepository({ ...input, imageName: 'octo/store' }, 'worker', false)).toBe('ghcr.io/octo/store-worker');
    expect(imageRepository({ server: 'hub.docker.com', namespace: 'me', service: 's' }, 'app', true)).toBe('docker.io/me/s-dev');
  });

  it('checks the OCI reference grammar', () => {
    for (const ok of ['a', 'ghcr.io/me/app-dev:abc', 'localhost:5555/kamal-dev/x-dev:20260101000000', 'a.b/c__d/e-f.g:T_1', 'r/x@sha256:' + 'a'.repeat(64)]) expect(isValidReference(ok)).toBe(true);
    for (const bad of ['', 'r.io/UPPER/x', 'a//b', 'a/-b', 'a:', 'a:-tag', 'a/b:' + 'x'.repeat(129), 'a b', 'a/b_', 'http://x/y']) expect(isValidReference(bad)).toBe(false);
    expect(isValidTag('abc1234-dirty-0a1b2c3d')).toBe(true);
    expect(isValidTag('.x')).toBe(false);
    expect(repositoryComponent('My App!!')).toBe('my-app');
  });
});

describe('image tags', () => {
  const git = (dir: string, ...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8' }).trim();
  /** A project with one commit, and that commit's short sha. */
  const committedProject = () => {
    const dir = tempProject({ 'a.txt': '1' });
    git(dir, 'init', '-q');
    git(dir, 'add', '.');
    git(dir, 'commit', '-qm', 'c');
    return { dir, sha: git(dir, 'rev-parse', '--short=7', 'HEAD') };
  };

  it('is the UTC time outside git', async () => {
    expect(timestampTag(new Date('2026-01-02T03:04:05.678Z'))).toBe('20260102030405');
    expect(await computeTag(tempProject({ a: '1' }), new Date('2026-01-02T03:04:05Z'))).toBe('20260102030405');
  });

  it('is the short sha of a clean tree; a dirty tree adds a marker and a hash of the changes', async () => {
    const { dir, sha } = committedProject();
    expect(await computeTag(dir)).toBe(sha);
    writeFileSync(join(dir, 'a.txt'), '2');
    const dirty = await computeTag(dir);
    expect(dirty).toMatch(new RegExp(`^${sha}-dirty-[0-9a-f]{8}$`));
    expect(await computeTag(dir)).toBe(dirty);
    writeFileSync(join(dir, 'new.txt'), 'n');
    expect(await computeTag(dir)).not.toBe(dirty);
  });

  it("ignores .kamal/, where kamal-dev writes its own log, keys and state on every deploy", async () => {
    const { dir, sha } = committedProject();
    mkdirSync(join(dir, '.kamal', 'ssh'), { recursive: true });
    writeFileSync(join(dir, '.kamal', 'kamal-dev.log'), 'a deploy ran\n');
    writeFileSync(join(dir, '.kamal', 'ssh', 'id_ed25519'), 'key');
    expect(await computeTag(dir)).toBe(sha);
    writeFileSync(join(dir, 'a.txt'), '2');
    const dirty = await computeTag(dir);
    writeFileSync(join(dir, '.kamal', 'kamal-dev.log'), 'another deploy ran\n');
    expect(await computeTag(dir)).toBe(dirty);
  });
});

describe('docker compose config', () => {
  it('merges the files in order with every profile', () => {
    expect(composeConfigArgv(['/p/a.yml', '/p/b.yml'])).toEqual(['docker', 'compose', '-f', '/p/a.yml', '-f', '/p/b.yml', '--profile', '*', 'config', '--format', 'json']);
  });

  it("points Compose's errors at the file and key they name", () => {
    const show = (f: string) => f.replace('/p/', '');
    const error = classifyComposeConfigError('validating /p/b.yml: services.app Additional property imagee is not allowed\n', ['/p/a.yml', '/p/b.yml'], show);
    expect([error.file, error.key, error.message]).toEqual(['b.yml', 'services.app', 'Additional property imagee is not allowed']);
    const missing = classifyComposeConfigError('env file /p/x.env not found: stat /p/x.env: no such file or directory', ['/p/a.yml'], show);
    expect([missing.file, missing.message]).toEqual(['a.yml', 'env file /p/x.env not found: stat /p/x.env: no such file or directory']);
    expect(classifyComposeConfigError("unknown shorthand flag: 'f' in -f", ['/p/a.yml'], show).kind).toBe('prerequisite');
  });
});
