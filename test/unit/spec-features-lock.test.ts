import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { featureLock, lockfilePath, readFeatureLock, writeFeatureLock } from '../../src/spec/features-lock';
import type { ResolvedFeature } from '../../src/spec/features-stage';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

const digest = (n: number) => `sha256:${String(n).repeat(64)}`;
const oci = (ref: string, repository: string, n: number, dependsOn?: Record<string, unknown>): ResolvedFeature => ({
  ref,
  source: { type: 'oci', registry: 'localhost:5556', repository, tag: '1' },
  manifest: { id: repository.split('/').pop()!, version: `1.${n}.0`, ...(dependsOn ? { dependsOn: dependsOn as never } : {}) },
  options: {},
  dir: '',
  digest: digest(n),
});

describe('devcontainer-lock.json', () => {
  it("locks the OCI features as the reference CLI does: by reference as written, sorted, with version, resolved and integrity (local folders are not locked)", () => {
    const local: ResolvedFeature = { ref: './features/x', source: { type: 'local', path: './features/x' }, manifest: { id: 'x' }, options: {}, dir: '', digest: digest(9) };
    const lock = featureLock([oci('localhost:5556/f/tools:1', 'f/tools', 2, { 'localhost:5556/f/hello:1': {} }), local, oci('localhost:5556/f/hello:1', 'f/hello', 1)]);
    expect(JSON.stringify(lock, null, 2)).toBe(
      JSON.stringify(
        {
          features: {
            'localhost:5556/f/hello:1': { version: '1.1.0', resolved: `localhost:5556/f/hello@${digest(1)}`, integrity: digest(1) },
            'localhost:5556/f/tools:1': { version: '1.2.0', resolved: `localhost:5556/f/tools@${digest(2)}`, integrity: digest(2), dependsOn: ['localhost:5556/f/hello:1'] },
          },
        },
        null,
        2,
      ),
    );
  });

  it('locks a tarball feature as the reference CLI does: resolved to its URL, integrity the sha256 of the tarball', () => {
    const url = 'https://example.com/releases/devcontainer-feature-hello.tgz';
    const tarball: ResolvedFeature = { ref: url, source: { type: 'tarball', url, id: 'hello' }, manifest: { id: 'hello', version: '1.2.0' }, options: {}, dir: '', digest: digest(3) };
    expect(featureLock([tarball])).toEqual({ features: { [url]: { version: '1.2.0', resolved: url, integrity: digest(3) } } });
  });

  it('is written next to devcontainer.json only when something is locked, rewritten only when it changes, and read back as pins', () => {
    const dir = tempProject({ '.devcontainer/devcontainer.json': '{}', '.devcontainer.json': '{}' });
    const file = join(dir, '.devcontainer/devcontainer.json');
    expect(lockfilePath(join(dir, '.devcontainer.json'))).toBe(join(dir, '.devcontainer-lock.json'));
    writeFeatureLock(file, { features: {} });
    expect(existsSync(lockfilePath(file))).toBe(false);
    const lock = featureLock([oci('localhost:5556/f/hello:1', 'f/hello', 1)]);
    writeFeatureLock(file, lock);
    expect(readFileSync(lockfilePath(file), 'utf8')).toBe(JSON.stringify(lock, null, 2) + '\n');
    writeFileSync(lockfilePath(file), JSON.stringify(lock)); // same content, other layout: left as the user wrote it
    writeFeatureLock(file, lock);
    expect(readFileSync(lockfilePath(file), 'utf8')).toBe(JSON.stringify(lock));
    expect(readFeatureLock(file, '.devcontainer/devcontainer.json')).toEqual(lock);
    writeFileSync(lockfilePath(file), '{ not json');
    expect(() => readFeatureLock(file, '.devcontainer/devcontainer.json')).toThrow(expect.objectContaining({ exitCode: 2, file: '.devcontainer/devcontainer-lock.json', key: 'features' }));
  });
});
