import type { Command } from 'commander';
import { COUNT_HELP, FROM_HELP, NO_CACHE_HELP, parseCount, TAG_HELP } from '../context';
import type { CliDeps } from '../deps';
import { lazyAction } from '../lazy';

export function register(program: Command, deps: CliDeps = {}): void {
  program
    .command('deploy')
    .description('build, push and bring up N workspaces (one VM each), following the deploy live')
    .option('--count <n>', COUNT_HELP, parseCount)
    .option('--tag <tag>', TAG_HELP)
    .option('--from <path>', FROM_HELP)
    .option('--skip-build', 'use images that are already built (the last `kamal-dev build`, or --tag)')
    .option('--skip-push', 'copy images to the VMs instead of pushing them to a registry')
    .option('--no-cache', NO_CACHE_HELP)
    .option('--sync-workspace', "copy this folder's files over the workspace copy on VMs that have one (by default only a first deploy seeds it)")
    .option('--attach [workflowId]', 'follow a deploy that is already running (default: the newest running one) instead of starting one')
    .option('--follow', 'with --json: one JSON object per progress change (newline-delimited), then the result')
    .option('--detach', 'return (exit 0) once the deploy no longer needs this machine: after the push (see the README)')
    .action(lazyAction(() => import('../commands/deploy'), deps));
}
