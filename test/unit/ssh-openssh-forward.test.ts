import { spawnSync } from 'node:child_process';
import { remoteForwardArgv } from '../../src/ssh/opensshForward';

describe('remoteForwardArgv', () => {
  const target = { host: '127.0.0.1', port: 2222, user: 'dev', privateKeyPath: '/p/.kamal/ssh/id_ed25519', knownHostsFile: '/p/.kamal/known_hosts' };

  it('is `ssh -R` with the project key, the pinned host keys, no prompts and no user config', () => {
    const argv = remoteForwardArgv(target, 5555);
    expect(argv.slice(0, -1)).toEqual([
      'ssh', '-F', 'none', '-T',
      '-i', '/p/.kamal/ssh/id_ed25519',
      '-p', '2222',
      '-o', 'BatchMode=yes',
      '-o', 'IdentitiesOnly=yes',
      '-o', 'UserKnownHostsFile=/p/.kamal/known_hosts',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'ExitOnForwardFailure=yes',
      '-o', 'ServerAliveInterval=10',
      '-o', 'ServerAliveCountMax=6',
      '-o', 'LogLevel=ERROR',
      '-R', '127.0.0.1:5555:127.0.0.1:5555',
      'dev@127.0.0.1',
      '--',
    ]);
  });

  it('runs a remote command that says it is ready and then lasts exactly as long as its stdin', () => {
    const remote = remoteForwardArgv(target, 5555).at(-1)!;
    const result = spawnSync('sh', ['-c', remote], { input: 'anything\n', encoding: 'utf8', timeout: 5_000 });
    expect(result).toMatchObject({ status: 0, stdout: 'kamal-dev-forward-ready\n' });
  });
});
