import { CommandFailedError, run } from '../docker/runner';
import { KamalDevError } from '../errors';
import type { LifecycleStep } from '../spec/devcontainer-vars';

/**
 * devcontainer.json `initializeCommand` on the source machine, in the project folder, before the
 * build reads compose and env files (it may write them), as the reference CLI runs it on the host.
 * Object form: entries in parallel. A failure is exit 1 with the command's last output lines.
 */
export async function runInitializeCommand(steps: LifecycleStep[], context: { projectDir: string; file: string; onLine?: (line: string) => void; signal?: AbortSignal }): Promise<void> {
  await Promise.all(
    steps.map(async (step) => {
      const argv = 'shell' in step ? ['/bin/sh', '-c', step.shell] : step.argv;
      try {
        await run(argv, { cwd: context.projectDir, onLine: context.onLine, signal: context.signal });
      } catch (error) {
        if (!(error instanceof CommandFailedError)) throw error;
        const tail = error.tail.split('\n').filter((l) => l.trim());
        throw new KamalDevError('build', `failed on this machine (exit code ${error.exitCode})${tail.length ? `: ${tail.at(-1)}` : ''}`, {
          file: context.file,
          key: step.name ? `initializeCommand.${step.name}` : 'initializeCommand',
          description: tail.slice(-20, -1).join('\n') || undefined,
          cause: error,
        });
      }
    }),
  );
}
