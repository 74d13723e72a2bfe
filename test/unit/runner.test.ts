import { CommandFailedError, run } from '../../src/docker/runner';
import { KamalDevError } from '../../src/errors';

describe('run', () => {
  it('runs argv without a shell', async () => {
    const { stdout } = await run(['echo', '$(whoami) `id` ; rm -rf /']);
    expect(stdout).toBe('$(whoami) `id` ; rm -rf /\n');
  });

  it('streams lines as they arrive', async () => {
    const lines: string[] = [];
    await run(['sh', '-c', 'echo one; echo two >&2; printf three'], { onLine: (l) => lines.push(l) });
    expect(lines.sort()).toEqual(['one', 'three', 'two']);
  });

  it('passes input and environment to the child', async () => {
    const { stdout } = await run(['sh', '-c', 'cat; echo "$KAMAL_DEV_TEST"'], { input: 'in\n', env: { KAMAL_DEV_TEST: 'env' } });
    expect(stdout).toBe('in\nenv\n');
  });

  it('rejects with argv, exit code and a redacted tail', async () => {
    const error = await run(['sh', '-c', 'echo "token s3cr3t-value" >&2; exit 3', 's3cr3t-value'], { secrets: ['s3cr3t-value'] }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(CommandFailedError);
    expect(error.exitCode).toBe(3);
    expect(error.tail).toBe('token [REDACTED]');
    expect(error.argv).toEqual(['sh', '-c', 'echo "token [REDACTED]" >&2; exit 3', '[REDACTED]']);
  });

  it('says which program is missing', async () => {
    await expect(run(['kamal-dev-no-such-program'])).rejects.toThrow(KamalDevError);
    await expect(run(['kamal-dev-no-such-program'])).rejects.toThrow('kamal-dev-no-such-program is not installed');
  });

  it('kills the child on abort', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const running = run(['sleep', '30'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(running).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
