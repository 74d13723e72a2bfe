import type { Command } from 'commander';
import { contextOf } from '../context';
import { table } from '../table';
import { withWorkspaces } from '../workspaces';

export function register(program: Command): void {
  program
    .command('status')
    .argument('[names...]', 'VM names (default: every VM of this project)')
    .option('--all', 'every VM of this project (the default when no name is given)')
    .description('live state of every service on the VMs: state, health, ports')
    .action(async (names: string[], _options: unknown, command: Command) => {
      const context = contextOf(command);
      await withWorkspaces(context.projectDir, async ({ plan, activities, select }) => {
        const vms = await select(names);
        const report = await Promise.all(vms.map(async (vm) => ({ ...vm, containers: await activities.stackStatus({ plan, vm }) })));
        if (context.json) return void process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        if (report.length === 0) return void process.stdout.write(`no VMs for ${plan.service}\n`);
        const rows = table(['VM', 'service', 'container', 'state', 'health', 'ports']);
        for (const vm of report) {
          if (vm.containers.length === 0) rows.push([vm.name, '-', '-', vm.status === 'running' ? 'no stack' : (vm.status ?? '?'), '', '']);
          for (const c of vm.containers) rows.push([vm.name, c.service, c.name, c.state, c.health ?? '', c.ports.join(', ')]);
        }
        process.stdout.write(rows.toString() + '\n');
      });
    });
}
