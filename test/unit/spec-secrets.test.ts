import { join } from 'node:path';
import { isKamalDevError } from '../../src/errors';
import { loadSecrets, readSecretNames } from '../../src/spec/secrets';
import { cleanupProjects, tempProject } from '../support/project';

const secretsOf = (text: string, env: NodeJS.ProcessEnv = {}) => {
  const dir = tempProject({ '.kamal/secrets': text });
  return loadSecrets(join(dir, '.kamal/secrets'), env);
};

afterAll(cleanupProjects);

describe('.kamal/secrets', () => {
  it('reads KEY=value, export, quotes, comments and blank lines', () => {
    const s = secretsOf(`# registry
GITHUB_USER=octo
export GITHUB_TOKEN=ghp_123   # inline comment

SINGLE='a $NOT "expanded" # kept'
DOUBLE="line1\\nline2 \\"q\\" \\$literal # kept"
EMPTY=
SPACED = padded value
HASH=abc#def
`);
    expect(s.names).toEqual(['GITHUB_USER', 'GITHUB_TOKEN', 'SINGLE', 'DOUBLE', 'EMPTY', 'SPACED', 'HASH']);
    expect(s.get('GITHUB_USER')).toBe('octo');
    expect(s.get('GITHUB_TOKEN')).toBe('ghp_123');
    expect(s.get('SINGLE')).toBe('a $NOT "expanded" # kept');
    expect(s.get('DOUBLE')).toBe('line1\nline2 "q" $literal # kept');
    expect(s.get('EMPTY')).toBe('');
    expect(s.get('SPACED')).toBe('padded value');
    expect(s.get('HASH')).toBe('abc#def');
  });

  it('takes a double-quoted value over several lines', () => {
    expect(secretsOf('KEY="-----BEGIN-----\nabc\n-----END-----"\nNEXT=1').get('KEY')).toBe('-----BEGIN-----\nabc\n-----END-----');
  });

  it('expands ${VAR} and $VAR from earlier keys and the environment (environment first)', () => {
    const s = secretsOf('USER=octo\nA=${USER}-x\nB="$USER/$HOME_DIR"\nC=$MISSING.\nD=${USER}', { HOME_DIR: '/home/o' });
    expect([s.get('A'), s.get('B'), s.get('C')]).toEqual(['octo-x', 'octo//home/o', '.']);
    expect(secretsOf('USER=file\nA=$USER', { USER: 'env' }).get('A')).toBe('env');
  });

  it('runs $(command) in a shell, with earlier keys in its environment', () => {
    const s = secretsOf('NAME=world\nGREETING=$(printf "hello %s" "$NAME" | tr a-z A-Z)\nNESTED="x-$(echo $(echo deep))"');
    expect(s.get('GREETING')).toBe('HELLO WORLD');
    expect(s.get('NESTED')).toBe('x-deep');
  });

  it('lets the process environment override the file', () => {
    const s = secretsOf('TOKEN=from-file', { TOKEN: 'from-env' });
    expect(s.resolveSecret('TOKEN')).toBe('from-env');
  });

  it('resolves values that exist only in the environment, and several at once', () => {
    const s = secretsOf('A=1', { B: '2' });
    expect(s.resolveAll(['A', 'B', 'A'])).toEqual({ A: '1', B: '2' });
  });

  it('names the variable and the file when a secret is missing or empty', () => {
    const s = secretsOf('EMPTY=');
    for (const name of ['NOPE', 'EMPTY']) {
      try {
        s.resolveSecret(name);
        throw new Error('expected a failure');
      } catch (error) {
        expect(isKamalDevError(error) && error.location).toBe(`${s.file}: ${name}`);
        expect((error as Error).message).toBe(`secret ${name} is not set`);
        expect(isKamalDevError(error) && error.exitCode).toBe(2);
      }
    }
  });

  it('treats a missing file as empty', () => {
    expect(loadSecrets('/nonexistent/.kamal/secrets', { A: 'x' }).resolveSecret('A')).toBe('x');
  });

  it('lists names without running any command', () => {
    const dir = tempProject({ '.kamal/secrets': 'A=$(touch ran)\nexport B=2' });
    expect(readSecretNames(join(dir, '.kamal/secrets'))).toEqual(['A', 'B']);
    expect(require('node:fs').existsSync(join(dir, 'ran'))).toBe(false);
  });
});
