import type { Command } from 'commander';
import { readState, stateFilePath } from '../../state/devState';
import { table } from '../table';
import { contextOf } from '../context';
import { withWorkspaces } from '../workspaces';

export function register(program: Command): void {
  program
    .command('list')
    .alias('ls')
    .description("list this project's VMs (from the provider) with the containers last seen on each")
    .action(async (_options: unknown, command: Command) => {
      const context = contextOf(command);
      await withWorkspaces(context.projectDir, async ({ plan, vms }) => {
        const state = readState(stateFilePath(plan.projectDir));
        const rows = (await vms()).map((vm) => ({ ...vm, containers: state.deployments[vm.name]?.containers ?? [] }));
        if (context.json) return void process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
        if (rows.length === 0) return void process.stdout.write(`no VMs for ${plan.service} (deploy with \`kamal-dev deploy\`)\n`);
        const output = table(['VM', 'status', 'provider', 'ssh', 'containers (last seen)']);
        for (const vm of rows) {
          const containers = vm.containers.map((c) => `${c.service} ${c.health ?? c.state}`).join(', ') || '-';
          output.push([vm.name, vm.status ?? '?', vm.provider, `${vm.ssh.user}@${vm.ssh.host}:${vm.ssh.port}`, containers]);
        }
        process.stdout.write(output.toString() + '\n');
      });
    });
}
