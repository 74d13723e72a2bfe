import type { Command } from 'commander';
import { contextOf } from '../context';
import type { CliDeps } from '../deps';
import { printerOf } from '../output';
import type { FailedCommand } from '../../domain/stack';
import { table } from '../table';
import { withWorkspaces } from '../workspaces';

export async function action(deps: CliDeps, names: string[], _options: unknown, command: Command): Promise<void> {
  const print = printerOf(command, deps);
  await withWorkspaces(contextOf(command).projectDir, async ({ plan, activities, select }) => {
    const vms = await select(names);
    const report = await Promise.all(
      vms.map(async (vm) => ({ ...vm, containers: await activities.stackStatus({ plan, vm }), failedCommands: await activities.commandFailures({ plan, vm }) })),
    );
    print.result({ outcome: 'ok', service: plan.service, vms: report }, () => {
      if (report.length === 0) return `no VMs for ${plan.service}`;
      const rows = table(['VM', 'service', 'container', 'state', 'health', 'ports'], print.stdout);
      for (const vm of report) {
        if (vm.containers.length === 0) rows.push([vm.name, '-', '-', vm.status === 'running' ? 'no stack' : (vm.status ?? '?'), '', '']);
        for (const c of vm.containers) rows.push([vm.name, c.service, c.name, c.state, c.health ?? '', c.ports.join(', ')]);
      }
      return [rows.toString(), ...report.flatMap((vm) => vm.failedCommands.flatMap((failed) => failedCommandLines(vm.name, failed)))].join('\n');
    });
  }, { deps, command });
}

/** A hook that failed after waitFor: the VM is deployed, but its setup is not complete. */
function failedCommandLines(vmName: string, failed: FailedCommand): string[] {
  const what = [failed.hook, failed.feature && `of feature ${failed.feature}`, failed.step].filter(Boolean).join(' ');
  return [`${vmName}: ${what} failed (exit code ${failed.exitCode ?? '?'}) at ${failed.at}`, ...failed.lines.slice(-5).map((line) => `  ${line}`)];
}
