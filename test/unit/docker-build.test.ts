import { buildLabels, buildxBuildArgv } from '../../src/docker/build';
import { KamalDevError } from '../../src/errors';
import type { ImageBuild } from '../../src/spec/plan';

const build = (overrides: Partial<ImageBuild> = {}): ImageBuild => ({
  service: 'app',
  context: '/src/app',
  dockerfile: '/src/app/Dockerfile',
  args: {},
  secrets: [],
  cacheFrom: [],
  image: 'ghcr.io/acme/app:abc123',
  ...overrides,
});

const options = { deployment: 'acme' };

describe('buildxBuildArgv', () => {
  it('builds, labels, tags and loads with the minimum', () => {
    expect(buildxBuildArgv(build(), options)).toEqual([
      'docker', 'buildx', 'build', '--progress=plain',
      '--file', '/src/app/Dockerfile',
      '--label', 'kamal-dev.service=acme',
      '--label', 'kamal-dev.compose-service=app',
      '--tag', 'ghcr.io/acme/app:abc123',
      '--load',
      '/src/app',
    ]);
  });

  it('passes every option in a fixed order', () => {
    const argv = buildxBuildArgv(
      build({ args: { RUBY: '3.3', EMPTY: '' }, secrets: ['NPM_TOKEN', 'API_KEY'], target: 'dev', platform: 'linux/amd64' }),
      { ...options, revision: 'deadbeef', source: 'https://github.com/acme/app', secretFiles: { NPM_TOKEN: '/tmp/s/NPM_TOKEN', API_KEY: '/tmp/s/API_KEY' } },
    );
    expect(argv).toEqual([
      'docker', 'buildx', 'build', '--progress=plain',
      '--file', '/src/app/Dockerfile',
      '--build-arg', 'RUBY=3.3',
      '--build-arg', 'EMPTY=',
      '--secret', 'id=NPM_TOKEN,src=/tmp/s/NPM_TOKEN',
      '--secret', 'id=API_KEY,src=/tmp/s/API_KEY',
      '--target', 'dev',
      '--platform', 'linux/amd64',
      '--label', 'kamal-dev.service=acme',
      '--label', 'kamal-dev.compose-service=app',
      '--label', 'org.opencontainers.image.revision=deadbeef',
      '--label', 'org.opencontainers.image.source=https://github.com/acme/app',
      '--tag', 'ghcr.io/acme/app:abc123',
      '--load',
      '/src/app',
    ]);
  });

  it('keeps hostile build arg values as single argv elements', () => {
    const hostile = `$(rm -rf /); echo "x" 'y' \`id\` --push\nnext=1`;
    const argv = buildxBuildArgv(build({ args: { EVIL: hostile }, context: '/src/my app; ls' }), options);
    expect(argv.slice(6, 8)).toEqual(['--build-arg', `EVIL=${hostile}`]);
    expect(argv[argv.length - 1]).toBe('/src/my app; ls');
  });

  it('never puts a secret value on argv, only its name and the mode-600 file that holds it', () => {
    const argv = buildxBuildArgv(build({ secrets: ['TOKEN'] }), { ...options, secretFiles: { TOKEN: '/tmp/kamal-dev-build-secrets-x/TOKEN' } });
    expect(argv).toContain('id=TOKEN,src=/tmp/kamal-dev-build-secrets-x/TOKEN');
    expect(() => buildxBuildArgv(build({ secrets: ['TOKEN'] }), options)).toThrow(/build secret TOKEN has no usable file/);
    expect(() => buildxBuildArgv(build({ secrets: ['TOKEN'] }), { ...options, secretFiles: { TOKEN: '/tmp/a,src=/etc/passwd' } })).toThrow(/no usable file/);
  });

  it.each(['A,src=/etc/passwd', 'A=B', 'has space', '1LEADING', ''])('rejects the secret name %j', (name) => {
    expect(() => buildxBuildArgv(build({ secrets: [name] }), options)).toThrow(KamalDevError);
  });

  it('imports cache from pushed images and writes an inline cache', () => {
    const argv = buildxBuildArgv(build({ cacheFrom: ['ghcr.io/acme/app:cache', 'ghcr.io/acme/app:main'] }), options);
    expect(argv.slice(10, 16)).toEqual([
      '--cache-from', 'type=registry,ref=ghcr.io/acme/app:cache',
      '--cache-from', 'type=registry,ref=ghcr.io/acme/app:main',
      '--cache-to', 'type=inline',
    ]);
  });

  it('passes full cache specs through as they are', () => {
    const argv = buildxBuildArgv(build({ cacheFrom: ['type=local,src=/tmp/cache'], cacheImage: 'ghcr.io/acme/app:buildcache' }), options);
    expect(argv.slice(argv.indexOf('--cache-from'), argv.indexOf('--cache-from') + 4)).toEqual([
      '--cache-from', 'type=local,src=/tmp/cache', '--cache-to', 'type=inline',
    ]);
  });

  it('with noCache, ignores every cache', () => {
    const argv = buildxBuildArgv(build({ cacheFrom: ['ghcr.io/acme/app:cache'] }), { ...options, noCache: true });
    expect(argv).toContain('--no-cache');
    expect(argv).not.toContain('--cache-from');
    expect(argv).not.toContain('--cache-to');
  });

  it('pushes from buildx instead of loading when asked', () => {
    const argv = buildxBuildArgv(build(), { ...options, push: true });
    expect(argv).toContain('--push');
    expect(argv).not.toContain('--load');
  });
});

describe('buildLabels', () => {
  it('leaves out what is not known', () => {
    expect(buildLabels(build(), options)).toEqual({
      'kamal-dev.service': 'acme',
      'kamal-dev.compose-service': 'app',
    });
  });
});
