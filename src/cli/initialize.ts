import { runInitializeCommand } from '../images/initialize';
import type { LifecycleStep } from '../spec/devcontainer-vars';

/** initializeCommand for `build` and `deploy`: announced, its output on stderr (stdout stays for results). */
export async function initializeOnThisMachine(steps: LifecycleStep[], where: { projectDir: string; file: string }, stderr: NodeJS.WritableStream = process.stderr): Promise<void> {
  stderr.write(`running initializeCommand of ${where.file} on this machine\n`);
  await runInitializeCommand(steps, { ...where, onLine: (line) => stderr.write(`  ${line}\n`) });
}
