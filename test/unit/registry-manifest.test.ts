import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { ImageError } from '../../src/images/errors';
import { MANIFEST_ACCEPT, parseChallenge, verifyManifest } from '../../src/registry/manifest';
import { registryLocation } from '../../src/registry/reference';

describe('registryLocation', () => {
  it.each([
    ['ghcr.io/acme/app:abc', { baseUrl: 'https://ghcr.io', repository: 'acme/app', tag: 'abc' }],
    ['localhost:5555/acme/app:1', { baseUrl: 'http://127.0.0.1:5555', repository: 'acme/app', tag: '1' }],
    ['registry.example.com:5000/team/x/app', { baseUrl: 'https://registry.example.com:5000', repository: 'team/x/app', tag: 'latest' }],
    ['acme/app:2', { baseUrl: 'https://registry-1.docker.io', repository: 'acme/app', tag: '2' }],
    ['docker.io/acme/app:2', { baseUrl: 'https://registry-1.docker.io', repository: 'acme/app', tag: '2' }],
    ['redis:7', { baseUrl: 'https://registry-1.docker.io', repository: 'library/redis', tag: '7' }],
  ])('%s', (image, location) => {
    expect(registryLocation(image)).toEqual(location);
  });
});

describe('parseChallenge', () => {
  it('reads the quoted parameters of a Bearer challenge', () => {
    expect(parseChallenge('realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/app:pull"')).toEqual({
      realm: 'https://ghcr.io/token',
      service: 'ghcr.io',
      scope: 'repository:acme/app:pull',
    });
  });
});

/** A stand-in for a cloud registry's token flow (GHCR, Docker Hub): the lab registry only speaks Basic. */
describe('verifyManifest against a Bearer-challenge registry', () => {
  const digest = `sha256:${'b'.repeat(64)}`;
  const requests: { url: string; headers: IncomingMessage['headers'] }[] = [];
  let server: Server;
  let port: number;
  let status = 200;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests.push({ url: req.url!, headers: req.headers });
      if (req.url!.startsWith('/token')) {
        const ok = req.headers.authorization === `Basic ${Buffer.from('u:p w').toString('base64')}`;
        res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(ok ? JSON.stringify({ token: 'T0KEN' }) : '{}');
        return;
      }
      if (req.headers.authorization !== 'Bearer T0KEN') {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="fake",scope="repository:acme/app:pull"` }).end();
        return;
      }
      res.writeHead(status, status === 200 ? { 'docker-content-digest': digest } : {}).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    requests.length = 0;
    status = 200;
  });

  it('follows the challenge to a token and compares digests', async () => {
    await expect(verifyManifest(`localhost:${port}/acme/app:1`, digest, { username: 'u', password: 'p w' })).resolves.toBe(digest);
    expect(requests.map((r) => r.url)).toEqual(['/v2/acme/app/manifests/1', '/token?service=fake&scope=repository%3Aacme%2Fapp%3Apull', '/v2/acme/app/manifests/1']);
    expect(requests[0].headers.accept).toBe(MANIFEST_ACCEPT);
  });

  it('says the push did not land when the digest differs', async () => {
    const error = await verifyManifest(`localhost:${port}/acme/app:1`, `sha256:${'c'.repeat(64)}`, { username: 'u', password: 'p w' }).catch((e) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect(error.type).toBe('PushNotVerified');
  });

  it('fails for good when the token service refuses the credentials', async () => {
    const error = await verifyManifest(`localhost:${port}/acme/app:1`, digest, { username: 'u', password: 'wrong' }).catch((e) => e);
    expect(error).toMatchObject({ type: 'RegistryAuthFailed', retryable: false, exitCode: 2 });
  });

  it('tries a registry that answers 5xx again, then fails as retryable with the reason', async () => {
    status = 503;
    const before = requests.length;
    const error = await verifyManifest(`localhost:${port}/acme/app:1`, digest, { username: 'u', password: 'p w' }).catch((e) => e);
    expect(error).toMatchObject({ type: 'RegistryUnavailable', retryable: true, exitCode: 1, message: expect.stringMatching(/HTTP 503/) });
    expect(requests.length - before).toBeGreaterThanOrEqual(3);
  });

  it('is retryable when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await verifyManifest(`localhost:${freePort}/acme/app:1`, digest).catch((e) => e);
    expect(error).toMatchObject({ type: 'RegistryUnavailable', retryable: true });
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});
