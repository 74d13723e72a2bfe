import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('ssh-config')
    .argument('[names...]', 'VM names (default: every VM of this project)')
    .option('--all', 'every VM of this project (the default when no name is given)')
    .option('--write', 'write .kamal/ssh_config, include it from ~/.ssh/config, and make a Docker context per VM')
    .description('OpenSSH Host entries (NAME.kamal-dev) for ssh, editors (VS Code Remote-SSH, JetBrains Gateway) and Docker contexts')
    .action(lazyAction(() => import('../commands/sshConfig'), deps));
}
