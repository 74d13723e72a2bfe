import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

const ACTIONS = [
  { name: 'stop', description: 'stop VMs (their disks and stacks stay)' },
  { name: 'start', description: 'start stopped VMs and their stacks again' },
  { name: 'remove', description: 'compose down -v, then destroy the VMs' },
];

/** stop, start and remove: durable workflows like deploy, visible in the Web UI, resumed after a crash. */
export function register(program: Command, deps: CliDeps = {}): void {
  for (const action of ACTIONS) {
    const command = program
      .command(action.name)
      .argument('[names...]', 'VM names')
      .option('--all', 'every VM of this project')
      .description(action.description);
    if (action.name === 'remove') command.option('-f, --force', 'do not ask for confirmation');
    command.action(lazyAction(() => import('../commands/lifecycle'), deps, action.name));
  }
}
