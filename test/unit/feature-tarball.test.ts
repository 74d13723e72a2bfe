import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/docker/runner';
import { fetchTarballFeature } from '../../src/registry/feature-tarball';

/** fetchTarballFeature itself takes any URL (devcontainer.json's https rule is the parser's): a plain local server serves here. */
describe('fetchTarballFeature', () => {
  const work = mkdtempSync(join(tmpdir(), 'kamal-dev-tarball-unit-'));
  const served = new Map<string, Buffer>();
  let requests = 0;
  let server: Server;
  let base = '';
  const cache = join(work, 'cache');

  beforeAll(async () => {
    const feature = join(work, 'feature');
    await run(['mkdir', '-p', feature]);
    writeFileSync(join(feature, 'devcontainer-feature.json'), '{"id": "hello", "version": "1.0.0"}');
    writeFileSync(join(feature, 'install.sh'), '#!/bin/sh\necho hi\n');
    await run(['tar', '-czf', join(work, 'hello.tgz'), '-C', feature, '.']);
    served.set('/devcontainer-feature-hello.tgz', readFileSync(join(work, 'hello.tgz')));
    served.set('/devcontainer-feature-junk.tgz', Buffer.from('not a tarball'));
    served.set('/devcontainer-feature-empty.tgz', Buffer.alloc(0));
    server = createServer((request, response) => {
      requests += 1;
      const body = served.get(request.url ?? '');
      response.writeHead(body ? 200 : 404).end(body ?? 'nope');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((done) => server.close(done));
    rmSync(work, { recursive: true, force: true });
  });

  it('unpacks a tgz once per sha256 of the download; every fetch downloads it again and checks the pin', async () => {
    const digest = `sha256:${createHash('sha256').update(served.get('/devcontainer-feature-hello.tgz')!).digest('hex')}`;
    const first = await fetchTarballFeature(`${base}/devcontainer-feature-hello.tgz`, cache);
    expect(first).toEqual({ dir: join(cache, digest.replace(':', '-')), digest });
    expect(readdirSync(first.dir).sort()).toEqual(['devcontainer-feature.json', 'install.sh']);
    const unpackedAt = statSync(join(first.dir, 'install.sh')).mtimeMs;
    const before = requests;
    expect(await fetchTarballFeature(`${base}/devcontainer-feature-hello.tgz`, cache, { pinned: digest })).toEqual(first);
    expect(requests).toBe(before + 1);
    expect(statSync(join(first.dir, 'install.sh')).mtimeMs).toBe(unpackedAt);
    await expect(fetchTarballFeature(`${base}/devcontainer-feature-hello.tgz`, cache, { pinned: `sha256:${'0'.repeat(64)}` })).rejects.toThrow(`the tarball is now ${digest}, not the pinned sha256:${'0'.repeat(64)}`);
  });

  it.each([
    ['a 404', '/devcontainer-feature-gone.tgz', 'the server answered HTTP 404'],
    ['an empty answer', '/devcontainer-feature-empty.tgz', 'the server answered with nothing'],
    ['bytes that are no archive', '/devcontainer-feature-junk.tgz', /^it is not a tar archive of a feature \(tar: /],
  ])('says what is wrong with %s, and caches nothing', async (_name, path, message) => {
    await expect(fetchTarballFeature(`${base}${path}`, join(work, 'other-cache'))).rejects.toThrow(message);
    const other = join(work, 'other-cache');
    expect(existsSync(other) ? readdirSync(other) : []).toEqual([]);
  });
});
