import { main } from '../../src/cli/main';
import { reportError } from '../../src/cli/output';
import { configError } from '../../src/errors';

function capture(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const stream = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

describe('cli', () => {
  it('exits 2 on a usage error', async () => {
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['node', 'kamal-dev', '--no-such-flag'])).toBe(2);
    spy.mockRestore();
  });

  it('prints a config error with file and key, and no stack trace', () => {
    const out = capture();
    const code = reportError(configError('should be a number', { file: 'config/dev.yml', key: 'vms.count', description: 'e.g. count: 3' }), {}, { stderr: out.stream });
    expect(code).toBe(2);
    expect(out.text()).toBe('error: config/dev.yml: vms.count: should be a number\n  e.g. count: 3\n');
  });

  it('prints the stack with --verbose', () => {
    const out = capture();
    reportError(new Error('boom'), { verbose: true }, { stderr: out.stream });
    expect(out.text()).toMatch(/error: boom\n\nError: boom\n\s+at /);
  });
});
