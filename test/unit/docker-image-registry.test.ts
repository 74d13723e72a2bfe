import {
  imageInspectArgv, pullArgv, pushArgv, saveArgv, tagArgv, untagArgv,
} from '../../src/docker/image';
import { composeVersionArgv, isComposeV2OrLater } from '../../src/docker/preflight';
import { classifyRegistryError, loginArgv } from '../../src/docker/registry';
import { localRegistryRunArgv } from '../../src/registry/local';

describe('image argv', () => {
  it('builds each command exactly', () => {
    expect(imageInspectArgv('localhost:5555/app:1')).toEqual(['docker', 'image', 'inspect', '--format', '{{.Id}}', 'localhost:5555/app:1']);
    expect(tagArgv('sha256:abc', 'ghcr.io/acme/app:1')).toEqual(['docker', 'tag', 'sha256:abc', 'ghcr.io/acme/app:1']);
    expect(pushArgv('ghcr.io/acme/app:1')).toEqual(['docker', 'push', 'ghcr.io/acme/app:1']);
    expect(pullArgv('ghcr.io/acme/app:1')).toEqual(['docker', 'pull', 'ghcr.io/acme/app:1']);
    expect(untagArgv('ghcr.io/acme/app:1')).toEqual(['docker', 'image', 'rm', 'ghcr.io/acme/app:1']);
    expect(saveArgv('app:1', '/tmp/out dir/app.tar')).toEqual(['docker', 'image', 'save', '--output', '/tmp/out dir/app.tar', 'app:1']);
  });
});

describe('registry argv', () => {
  it('logs in with the password on stdin, never -p', () => {
    const argv = loginArgv('ghcr.io', '--user; rm -rf /');
    expect(argv).toEqual(['docker', 'login', 'ghcr.io', '--username', '--user; rm -rf /', '--password-stdin']);
    expect(argv).not.toContain('-p');
    expect(argv).not.toContain('--password');
  });

  it('starts the local registry on loopback only, labelled, allowing deletion (of old workspace seeds)', () => {
    expect(localRegistryRunArgv('kamal-dev-registry', 5555, 'registry:2')).toEqual([
      'docker', 'run', '--detach', '--name', 'kamal-dev-registry',
      '--label', 'kamal-dev.managed=true', '--label', 'kamal-dev.local-registry=5555',
      '--restart', 'unless-stopped', '--publish', '127.0.0.1:5555:5000',
      '--env', 'REGISTRY_STORAGE_DELETE_ENABLED=true', 'registry:2',
    ]);
  });
});

describe('classifyRegistryError', () => {
  it.each([
    ['Error response from daemon: Get "http://localhost:5556/v2/": unauthorized: authentication required', 'auth'],
    ['denied: requested access to the resource is denied', 'auth'],
    ['Error response from daemon: login attempt to https://ghcr.io/v2/ failed with status: 401 Unauthorized', 'auth'],
    ['Error response from daemon: Get "http://localhost:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused', 'unreachable'],
    ['read tcp 127.0.0.1:4000->127.0.0.1:5556: read: connection reset by peer', 'unreachable'],
    ['received unexpected HTTP status: 503 Service Unavailable', 'server'],
    ['manifest unknown: manifest unknown', 'not-found'],
    ['something else entirely', 'unknown'],
  ])('%s -> %s', (stderr, kind) => {
    expect(classifyRegistryError(stderr)).toBe(kind);
  });

  it('does not mistake a port number for a status code', () => {
    expect(classifyRegistryError('pushing to localhost:5556 went wrong')).toBe('unknown');
  });
});

describe('preflight', () => {
  it('asks compose for its short version', () => {
    expect(composeVersionArgv()).toEqual(['docker', 'compose', 'version', '--short']);
  });

  it.each([['2.26.1-4', true], ['v2.29.7', true], ['5.0.0', true], ['1.29.2', false], ['', false]])('compose %j is v2 or later: %s', (v, ok) => {
    expect(isComposeV2OrLater(v)).toBe(ok);
  });
});
