import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('forward')
    .argument('[name]', 'VM name (or --all)')
    .argument('[ports...]', "PORT (the devcontainer's service) or SERVICE:PORT; default: forwardPorts of devcontainer.json")
    .option('--all', 'every VM of the deployment: VM i on port + 1000 x (i-1), or the next free port')
    .description('forward ports of the containers on a VM to 127.0.0.1 on this machine, through SSH, until Ctrl-C')
    .addHelpText('after', '\nExamples:\n  kamal-dev forward app-1            # forwardPorts, e.g. localhost:3000 -> app:3000\n  kamal-dev forward app-1 db:5432\n  kamal-dev forward --all')
    .action(lazyAction(() => import('../commands/forward'), deps));
}
