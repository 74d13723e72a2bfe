import { execFileSync } from 'node:child_process';
import { quoteArg, remoteCommandLine } from '../../src/ssh/quote';
import { HOSTILE } from '../support/hostile';


describe('remote command quoting', () => {
  it('leaves plain words alone', () => {
    expect(remoteCommandLine(['docker', 'compose', '-p', 'app-1', '-f', '/opt/kamal-dev/app/compose.yaml', 'up', '-d'])).toBe(
      'docker compose -p app-1 -f /opt/kamal-dev/app/compose.yaml up -d',
    );
  });

  it('single-quotes everything else and escapes single quotes', () => {
    expect(quoteArg("it's")).toBe(`'it'\\''s'`);
    expect(quoteArg('$(x)')).toBe(`'$(x)'`);
    expect(quoteArg('')).toBe(`''`);
  });

  it('prefixes sudo for non-root users', () => {
    expect(remoteCommandLine(['rm', '-rf', '--', '/opt/kamal-dev/x'], { sudo: true })).toBe('sudo -n -- rm -rf -- /opt/kamal-dev/x');
  });

  it('refuses NUL bytes, which no shell argument can carry', () => {
    expect(() => quoteArg('a\0b')).toThrow(/NUL/);
  });

  it.each(HOSTILE)('a POSIX shell gets back exactly %j as one argument', (value) => {
    const line = remoteCommandLine(['printf', '%s\\0', value, 'end']);
    const out = execFileSync('sh', ['-c', line]).toString();
    expect(out.split('\0').slice(0, -1)).toEqual([value, 'end']);
  });
});
