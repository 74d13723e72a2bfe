import type { Command } from 'commander';
import { readState, stateFilePath } from '../../state/devState';
import { contextOf } from '../context';
import type { CliDeps } from '../deps';
import { printerOf } from '../output';
import { table } from '../table';
import { withWorkspaces } from '../workspaces';

export async function action(deps: CliDeps, _options: unknown, command: Command): Promise<void> {
  const print = printerOf(command, deps);
  await withWorkspaces(contextOf(command).projectDir, async ({ plan, vms }) => {
    const state = readState(stateFilePath(plan.projectDir));
    const rows = (await vms()).map((vm) => ({ ...vm, containers: state.deployments[vm.name]?.containers ?? [] }));
    print.result({ outcome: 'ok', service: plan.service, vms: rows }, () => {
      if (rows.length === 0) return `no VMs for ${plan.service} (deploy with \`kamal-dev deploy\`)`;
      const output = table(['VM', 'status', 'provider', 'ssh', 'containers (last seen)'], print.stdout);
      for (const vm of rows) {
        const containers = vm.containers.map((c) => `${c.service} ${c.health ?? c.state}`).join(', ') || '-';
        output.push([vm.name, vm.status ?? '?', vm.provider, `${vm.ssh.user}@${vm.ssh.host}:${vm.ssh.port}`, containers]);
      }
      return output.toString();
    });
  }, { deps, command });
}
