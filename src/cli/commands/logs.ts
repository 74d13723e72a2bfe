import type { Command } from 'commander';
import { stackRef } from '../../remote/stackDir';
import { knownHostsFile } from '../../ssh/knownHosts';
import { composeArgv } from '../../docker/compose';
import { sshKeyPath } from '../../ssh/keys';
import { SshPool } from '../../ssh/pool';
import { contextOf } from '../context';
import type { CliDeps } from '../deps';
import { printerOf } from '../output';
import { withWorkspaces } from '../workspaces';

export async function action(deps: CliDeps, name: string, services: string[], options: { tail: number; follow?: boolean }, command: Command): Promise<void> {
  const context = contextOf(command);
  const print = printerOf(command, deps);
  await withWorkspaces(context.projectDir, async ({ plan, select }) => {
    const [vm] = await select([name]);
    const pool = new SshPool({ privateKeyPath: sshKeyPath(plan), knownHostsFile: knownHostsFile(plan) });
    try {
      const session = await pool.session(vm.ssh);
      const argv = composeArgv(stackRef(plan), 'logs', '--no-color', '--tail', String(options.tail), ...(options.follow ? ['--follow'] : []), ...services);
      await session.run(argv, { root: true, onLine: (line, stream) => (stream === 'stdout' ? print.stdout : print.stderr).write(line + '\n') });
    } finally {
      await pool.closeAll();
    }
  }, { deps, command });
}
