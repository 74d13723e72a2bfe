import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('exec')
    .argument('<name>', 'VM name')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-s, --service <service>', 'compose service (default: the devcontainer\'s primary service)')
    .option('-t, --tty', 'allocate a pseudo-terminal')
    .description("one command in a container of a VM's stack, for scripts; the exit code is the command's")
    .addHelpText('after', '\nExamples:\n  kamal-dev exec app-1 -- bin/rails test\n  kamal-dev exec app-1 --service db -- psql -U postgres -c "select 1"')
    .action(lazyAction(() => import('../commands/exec'), deps));
}
