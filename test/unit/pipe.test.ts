import { execFileSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { pipeToRemote } from '../../src/docker/pipe';
import type { SshSession } from '../../src/ssh/session';

describe('pipeToRemote', () => {
  it('stops the local producer when the remote side fails (a dropped SSH connection)', async () => {
    const marker = `kamal-dev-pipe-test-${process.pid}`;
    // Reads a little, then fails the way a lost connection does, leaving the rest of the stream unread.
    const session = {
      run: (_argv: string[], options: { input: Readable }) =>
        new Promise((_resolve, reject) =>
          options.input.once('data', () => {
            options.input.pause();
            reject(new Error('Connection lost before handshake'));
          }),
        ),
    } as unknown as SshSession;

    await expect(pipeToRemote(['yes', marker], session, ['tar', '-x'])).rejects.toThrow('Connection lost');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(marker);
  });
});
