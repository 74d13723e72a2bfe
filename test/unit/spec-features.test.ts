import { featureRequests, optionsEnvFile, optionVariable, parseFeatureSource, resolveOptions, type FeatureManifest } from '../../src/spec/features';
import { featureEntrypoints } from '../../src/spec/features-plan';
import { installOrder, withoutVersion, type OrderNode } from '../../src/spec/features-order';
import { featuresDockerfile, metadataLabel, type ResolvedFeature } from '../../src/spec/features-stage';

const FILE = '.devcontainer/devcontainer.json';
const where = { file: FILE, key: 'features../features/node' };

describe('parseFeatureSource', () => {
  it('tells local folders, OCI references (any registry) and tarball URLs apart', () => {
    expect(parseFeatureSource('./features/node', where)).toEqual({ type: 'local', path: './features/node' });
    expect(parseFeatureSource('ghcr.io/devcontainers/features/github-cli:1', where)).toEqual({ type: 'oci', registry: 'ghcr.io', repository: 'devcontainers/features/github-cli', tag: '1' });
    expect(parseFeatureSource('localhost:5556/lab/features/hello', where)).toEqual({ type: 'oci', registry: 'localhost:5556', repository: 'lab/features/hello', tag: 'latest' });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseFeatureSource(`ghcr.io/rails/devcontainer/features/activestorage@${digest}`, where)).toMatchObject({ repository: 'rails/devcontainer/features/activestorage', digest });
    expect(parseFeatureSource('https://example.com/r/devcontainer-feature-go_lang-1.tgz', where)).toEqual({ type: 'tarball', url: 'https://example.com/r/devcontainer-feature-go_lang-1.tgz', id: 'go_lang-1' });
  });

  it.each([
    ['http://example.com/devcontainer-feature-go.tgz', /fetched over https only .* not http$/],
    ['https://example.com/go.tgz', /file is named devcontainer-feature-ID\.tgz/],
    ['https://example.com/devcontainer-feature-g.o.tgz', /file is named devcontainer-feature-ID\.tgz/],
    ['https://exa mple.com/devcontainer-feature-go.tgz', /is not a URL/],
  ])('refuses the tarball reference %s as the reference CLI would, with the key', (ref, message) => {
    expect(() => parseFeatureSource(ref, where)).toThrow(expect.objectContaining({ kind: 'config', key: where.key, message: expect.stringMatching(message) }));
  });

  it.each(['node', 'features/node', 'Ghcr.io/X/Y'])('refuses %s with the key', (ref) => {
    expect(() => parseFeatureSource(ref, where)).toThrow(expect.objectContaining({ kind: 'config', key: where.key, message: `"${ref}" is not a feature reference` }));
  });
});

describe('featureRequests', () => {
  it('reads objects of options, version strings and true', () => {
    expect(featureRequests({ './a': { x: 'y', on: true }, './b': '18', './c': true }, FILE)).toEqual([
      { ref: './a', options: { x: 'y', on: true } },
      { ref: './b', options: { version: '18' } },
      { ref: './c', options: {} },
    ]);
  });

  it('refuses other values naming the key', () => {
    expect(() => featureRequests({ './a': 3 }, FILE)).toThrow(expect.objectContaining({ key: 'features../a' }));
    expect(() => featureRequests({ './a': { n: 3 } }, FILE)).toThrow(expect.objectContaining({ key: 'features../a.n' }));
  });
});

describe('resolveOptions', () => {
  const manifest: FeatureManifest = {
    id: 'node',
    options: { version: { type: 'string', default: 'lts', enum: ['lts', '18', '20'] }, installYarn: { type: 'boolean', default: true }, extra: { type: 'string', proposals: ['a'] } },
  };

  it('puts the given values over the defaults', () => {
    expect(resolveOptions(manifest, { version: '20' }, where)).toEqual({ version: '20', installYarn: true, extra: '' });
  });

  it.each([
    [{ version: '21' }, 'features../features/node.version', /expected one of lts, 18, 20, got "21"/],
    [{ installYarn: 'yes' }, 'features../features/node.installYarn', /expected true or false, got "yes"/],
    [{ extra: true }, 'features../features/node.extra', /expected a string, got true/],
    [{ versoin: '20' }, 'features../features/node.versoin', /feature node has no option "versoin"/],
  ])('refuses %j', (given, key, message) => {
    expect(() => resolveOptions(manifest, given as never, where)).toThrow(expect.objectContaining({ kind: 'config', key, message: expect.stringMatching(message) }));
  });
});

describe('option environment', () => {
  it('names variables as the spec does and quotes values for sh', () => {
    expect([optionVariable('installYarn'), optionVariable('node-version'), optionVariable('2fa'), optionVariable('a.b')]).toEqual(['INSTALLYARN', 'NODE_VERSION', '_FA', 'A_B']);
    expect(optionsEnvFile({ version: '20', on: true, tricky: 'a"b$c`d\\' })).toBe('VERSION="20"\nON="true"\nTRICKY="a\\"b\\$c\\`d\\\\"\n');
  });
});

describe('installOrder', () => {
  const node = (key: string, over: Partial<OrderNode> = {}): OrderNode => ({ key, id: key.split('/').pop()!, dependsOn: [], installsAfter: [], ...over });
  const keys = (nodes: OrderNode[]) => nodes.map((n) => n.key);

  it('keeps devcontainer.json order when nothing says otherwise', () => {
    expect(keys(installOrder([node('./a'), node('./b'), node('./c')], [], FILE))).toEqual(['./a', './b', './c']);
  });

  it('installs dependsOn first, and installsAfter only when the other feature is there', () => {
    const nodes = [node('r.io/x/app', { dependsOn: ['r.io/x/utils:1'] }), node('r.io/x/late', { installsAfter: ['r.io/x/absent', 'r.io/x/tools'] }), node('r.io/x/tools'), node('r.io/x/utils')];
    expect(keys(installOrder(nodes, [], FILE))).toEqual(['r.io/x/tools', 'r.io/x/utils', 'r.io/x/app', 'r.io/x/late']);
  });

  it('puts overrideFeatureInstallOrder first within a round, never before a dependency', () => {
    const nodes = [node('./a'), node('./b', { dependsOn: ['./c'] }), node('./c'), node('./d')];
    expect(keys(installOrder(nodes, ['./d', './b', './a'], FILE))).toEqual(['./d', './a', './c', './b']);
    expect(() => installOrder(nodes, ['./z'], FILE)).toThrow(expect.objectContaining({ key: 'overrideFeatureInstallOrder[0]' }));
  });

  it('names a cycle', () => {
    const nodes = [node('./a', { dependsOn: ['./b'] }), node('./b', { installsAfter: ['./a'] }), node('./c')];
    expect(() => installOrder(nodes, [], FILE)).toThrow(expect.objectContaining({ key: 'features', message: 'the features depend on each other in a cycle: ./a, ./b' }));
  });

  it('strips tags and digests', () => {
    expect([withoutVersion('ghcr.io/a/b:1'), withoutVersion('localhost:5556/a/b'), withoutVersion(`r.io/a@sha256:${'0'.repeat(64)}`)]).toEqual(['ghcr.io/a/b', 'localhost:5556/a/b', 'r.io/a']);
  });
});

describe('the features stage', () => {
  const feature = (dir: string, manifest: Partial<FeatureManifest> = {}): ResolvedFeature => ({
    ref: `./features/${dir}`,
    source: { type: 'local', path: `./features/${dir}` },
    manifest: { id: dir, version: '1.0.0', ...manifest },
    options: {},
    dir: `${dir}_0`,
    digest: `sha256:${dir}`,
  });

  it('copies and installs each feature in its own layers, in order, then restores the image user (a build arg the builder reads from the base)', () => {
    const text = featuresDockerfile([feature('hello', { containerEnv: { HELLO: 'world', PATH: '/opt/hello:${PATH}' } }), feature('tools')], { remoteUser: 'dev' });
    expect(text.split('\n').filter((l) => /^(FROM|COPY|ENV|USER)/.test(l))).toEqual([
      'FROM $_DEV_CONTAINERS_BASE_IMAGE',
      'USER root',
      'ENV _CONTAINER_USER="${_DEV_CONTAINERS_IMAGE_USER}" _REMOTE_USER="dev"',
      'COPY --chown=root:root hello_0/ /tmp/dev-container-features/hello_0/',
      'ENV HELLO="world" PATH="/opt/hello:${PATH}"',
      'COPY --chown=root:root tools_0/ /tmp/dev-container-features/tools_0/',
      'USER $_DEV_CONTAINERS_IMAGE_USER',
    ]);
    expect(text).toMatch(/RUN cd \/tmp\/dev-container-features\/hello_0 && chmod \+x \.\/install\.sh && set -a && \. \.\/devcontainer-features\.env/);
    expect(featuresDockerfile([feature('hello')], {})).toBe(featuresDockerfile([feature('hello')], {}));
  });

  it('writes the devcontainer.metadata label: base entries, features in order with their metadata, then the devcontainer', () => {
    const label = JSON.parse(metadataLabel([{ remoteUser: 'base' }], [feature('a', { capAdd: ['SYS_PTRACE'], postCreateCommand: 'a-setup', options: {} }), feature('b')], { remoteUser: 'dev' }));
    expect(label).toEqual([{ remoteUser: 'base' }, { id: './features/a', capAdd: ['SYS_PTRACE'], postCreateCommand: 'a-setup' }, { id: './features/b' }, { remoteUser: 'dev' }]);
  });
});

describe('feature entrypoints', () => {
  const withEntrypoint = { ref: './features/dind', source: { type: 'local' as const, path: './features/dind' }, manifest: { id: 'dind', entrypoint: '/usr/local/share/docker-init.sh' }, options: {}, dir: '0_dind', digest: 'sha256:0', sourceDir: '/x' };
  const without = { ...withEntrypoint, ref: './features/plain', manifest: { id: 'plain' } };

  it('are collected in install order', () => {
    expect(featureEntrypoints([withEntrypoint, without])).toEqual(['/usr/local/share/docker-init.sh']);
  });
});
