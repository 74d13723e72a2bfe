import { spawn } from 'node:child_process';
import { Transform } from 'node:stream';
import { CommandFailedError, tailLines } from './runner';
import type { SshSession } from '../ssh/session';

/**
 * `local argv | remote argv`: a local producer (tar, docker save) streamed into a command on a VM,
 * without a shell on either side. Both ends must exit 0.
 */
export async function pipeToRemote(
  localArgv: string[],
  session: SshSession,
  remoteArgv: string[],
  options: { cwd?: string; root?: boolean; onLine?: (line: string) => void; onBytes?: (bytes: number) => void } = {},
): Promise<void> {
  const [command, ...args] = localArgv;
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const localExit = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  // Consumed at once: Node discards the unread output of a child that exits before the SSH channel
  // opens (it resumes stdio streams without readers on exit).
  const output = child.stdout.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        options.onBytes?.(chunk.length);
        done(null, chunk);
      },
    }),
  );
  const remote = session.run(remoteArgv, { input: output, root: options.root, onLine: options.onLine }).catch((error: unknown) => {
    // Nobody reads the producer's output any more: left alone it would block on a full pipe forever
    // and keep the worker process from exiting.
    child.kill();
    throw error;
  });
  const [code] = await Promise.all([localExit, remote]);
  if (code !== 0) {
    const text = Buffer.concat(stderr).toString();
    throw new CommandFailedError(localArgv, code, '', tailLines(text, 30));
  }
}
