import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('cancel')
    .argument('[workflowId]', 'the deploy (or remove/stop/start) to cancel (default: the newest running deploy of this project)')
    .description('cancel a running deploy; it destroys the VMs it created and keeps the ones it found')
    .action(lazyAction(() => import('../commands/cancel'), deps));
}
