import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { knownHostsFile } from '../../activities/vmContext';
import { KamalDevError } from '../../errors';
import { sshKeyPath } from '../../ssh/keys';
import { contextOf } from '../context';
import { setExitCode } from '../session';
import { withWorkspaces } from '../workspaces';

export function register(program: Command): void {
  program
    .command('ssh')
    .argument('<name>', 'VM name')
    .argument('[command...]', 'a command to run instead of a shell')
    .description("open a shell on a VM (OpenSSH, with the project's key and known_hosts)")
    .action(async (name: string, remote: string[], _options: unknown, command: Command) => {
      const context = contextOf(command);
      const argv = await withWorkspaces(context.projectDir, async ({ plan, select }) => {
        const [vm] = await select([name]);
        return [
          '-i', sshKeyPath(plan),
          '-p', String(vm.ssh.port),
          '-o', `UserKnownHostsFile=${knownHostsFile(plan)}`,
          '-o', 'StrictHostKeyChecking=yes',
          '-o', 'IdentitiesOnly=yes',
          ...(remote.length === 0 ? ['-t'] : []),
          `${vm.ssh.user}@${vm.ssh.host}`,
          ...remote,
        ];
      });
      const result = spawnSync('ssh', argv, { stdio: 'inherit' });
      if (result.error) throw new KamalDevError('prerequisite', 'ssh is not installed', { description: 'Install OpenSSH (Debian: apt-get install openssh-client).' });
      // The remote command's exit code is ssh's, and so kamal-dev's.
      setExitCode(command, result.status ?? 1);
    });
}
