import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const BIN = join(__dirname, '..', '..', 'bin', 'kamal-dev');
const exec = promisify(execFile);

/** The built CLI through its real entry point (package.json `bin`), as a user runs it. */
export async function kamalDev(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  try {
    const { stdout, stderr } = await exec(BIN, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 32 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('kamal-dev binary', () => {
  it('prints its version', async () => {
    const { version } = require('../../package.json');
    expect(await kamalDev(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('prints help', async () => {
    const result = await kamalDev(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: kamal-dev/);
  });

  it('exits 2 with a short message on an unknown option, no stack trace', async () => {
    const result = await kamalDev(['--no-such-option']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
