import {
  classifyComposeError,
  composeContainerId,
  composeDown,
  dockerExec,
  composeLogs,
  composePs,
  composePull,
  composeUp,
  dockerLoad,
  dockerSave,
  parseComposePs,
} from '../../src/docker/compose';

const base = ['docker', 'compose', '-p', 'app', '--project-directory', '/opt/kamal-dev/app', '-f', '/opt/kamal-dev/app/compose.yaml'];

const stack = { project: 'app', dir: '/opt/kamal-dev/app' };

describe('compose argv', () => {
  it('builds each command for one stack folder', () => {
    expect(composePull(stack)).toEqual([...base, 'pull']);
    expect(composePull(stack, ['db'])).toEqual([...base, 'pull', 'db']);
    expect(composeUp(stack)).toEqual([...base, 'up', '-d', '--remove-orphans']);
    expect(composePs(stack)).toEqual([...base, 'ps', '--all', '--format', 'json']);
    expect(composeLogs(stack, 40, ['web'])).toEqual([...base, 'logs', '--no-color', '--tail', '40', 'web']);
    expect(composeDown(stack)).toEqual([...base, 'down', '-v', '--remove-orphans']);
  });

  it('interpolates secrets from the stack env file when it has one', () => {
    expect(composeUp({ ...stack, envFile: '/opt/kamal-dev/app/secrets.env' })).toEqual([
      ...base, '--env-file', '/opt/kamal-dev/app/secrets.env', 'up', '-d', '--remove-orphans',
    ]);
  });

  it('runs a command in a container as a user, in a folder, with extra environment and a secrets env file', () => {
    expect(dockerExec('c0ffee', ['/bin/sh', '-c', 'bin/setup'], { workdir: '/src', user: 'dev', env: { A: '1 2' }, envFile: '/opt/kamal-dev/app/lifecycle.env' })).toEqual([
      'docker', 'exec', '--workdir', '/src', '--user', 'dev', '--env', 'A=1 2', '--env-file', '/opt/kamal-dev/app/lifecycle.env', 'c0ffee', '/bin/sh', '-c', 'bin/setup',
    ]);
    expect(dockerExec('c0ffee', ['true'])).toEqual(['docker', 'exec', 'c0ffee', 'true']);
    expect(composeContainerId({ project: 'app', dir: '/opt/kamal-dev/app' }, 'web')).toEqual([
      'docker', 'ps', '--quiet', '--no-trunc',
      '--filter', 'label=com.docker.compose.project=app', '--filter', 'label=com.docker.compose.service=web', '--filter', 'label=com.docker.compose.oneoff=False',
    ]);
  });

  it('saves and loads images', () => {
    expect(dockerSave(['a:1', 'b:2'])).toEqual(['docker', 'save', 'a:1', 'b:2']);
    expect(dockerLoad()).toEqual(['docker', 'load']);
  });
});

describe('compose ps parsing', () => {
  const line = (o: object) => JSON.stringify(o);
  it('reads one object per line (Compose >= 2.21)', () => {
    const out = [
      line({ Name: 'app-web-1', Service: 'web', State: 'running', Health: '', ExitCode: 0, Publishers: [{ URL: '0.0.0.0', TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp' }] }),
      line({ Name: 'app-db-1', Service: 'db', State: 'running', Health: 'healthy', ExitCode: 0, Publishers: [{ URL: '', TargetPort: 5432, PublishedPort: 0, Protocol: 'tcp' }] }),
    ].join('\n');
    expect(parseComposePs(out)).toEqual([
      { service: 'web', name: 'app-web-1', state: 'running', exitCode: 0, ports: ['0.0.0.0:8080->80/tcp'] },
      { service: 'db', name: 'app-db-1', state: 'running', health: 'healthy', exitCode: 0, ports: [] },
    ]);
  });

  it('reads an array (older Compose) and empty output', () => {
    expect(parseComposePs(`[${line({ Name: 'n', Service: 's', State: 'exited', ExitCode: 3 })}]`)).toEqual([
      { service: 's', name: 'n', state: 'exited', exitCode: 3, ports: [] },
    ]);
    expect(parseComposePs('\n')).toEqual([]);
  });
});

describe('compose stderr classification', () => {
  it.each([
    ['Error response from daemon: Head "http://localhost:5556/v2/x/manifests/1": no basic auth credentials', 'RegistryAuth'],
    ['unauthorized: authentication required', 'RegistryAuth'],
    ['Error response from daemon: manifest for localhost:5556/x:1 not found: manifest unknown', 'ImageNotFound'],
    ['yaml: line 3: did not find expected key', 'ComposeInvalid'],
    ['dial tcp 127.0.0.1:5556: connect: connection refused', undefined],
  ])('%s -> %s', (stderr, type) => {
    expect(classifyComposeError(stderr)).toBe(type);
  });
});
