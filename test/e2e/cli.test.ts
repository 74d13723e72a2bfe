import { kamalDev } from '../support/kamal-dev';

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
