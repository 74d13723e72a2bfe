import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs argv and returns trimmed stdout; the lab's failures carry stderr so the reason is readable. */
export async function sh(argv: string[], options: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  try {
    const child = execFileAsync(argv[0], argv.slice(1), {
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (options.input !== undefined) {
      child.child.stdin?.end(options.input);
    }
    const { stdout } = await child;
    return stdout.trim();
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${argv.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}

export async function succeeds(argv: string[]): Promise<boolean> {
  try {
    await sh(argv, { timeoutMs: 30_000 });
    return true;
  } catch {
    return false;
  }
}
