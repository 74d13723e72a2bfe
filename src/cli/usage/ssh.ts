import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('ssh')
    .argument('<name>', 'VM name')
    .argument('[command...]', 'a command to run instead of a shell (after --)')
    .option('--host', 'on the VM itself instead of in the devcontainer')
    .description(
      "a shell in the VM's devcontainer (the primary service, as remoteUser, in workspaceFolder, with remoteEnv), " +
        "or one command there; the exit code is the remote command's. An interactive shell runs devcontainer.json's postAttachCommand first",
    )
    .addHelpText('after', "\nExamples:\n  kamal-dev ssh app-1\n  kamal-dev ssh app-1 -- bin/rails db:migrate\n  kamal-dev ssh app-1 --host -- df -h")
    .action(lazyAction(() => import('../commands/ssh'), deps));
}
