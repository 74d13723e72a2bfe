import type { Command } from 'commander';
import { wholeNumberFlag } from '../context';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('logs')
    .argument('<name>', 'VM name')
    .argument('[services...]', 'compose services (default: all)')
    .option('-n, --tail <lines>', 'lines from the end of each log, 1 to 10000', wholeNumberFlag('--tail', 10_000), 100)
    .option('-f, --follow', 'keep printing new lines (Ctrl-C stops)')
    .description("a VM's compose logs (the remote's own output, also with --json)")
    .action(lazyAction(() => import('../commands/logs'), deps));
}
