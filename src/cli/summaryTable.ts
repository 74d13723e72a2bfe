import { table } from './table';
import type { DeploySummary } from '../workflows/types';

/** One row per container of every VM; a VM without containers gets one row with its state and error. */
export function summaryTable(summary: DeploySummary): string {
  const rows = table(['VM', 'State', 'SSH', 'Container', 'Status', 'Health', 'Ports']);
  for (const vm of summary.vms) {
    const ssh = vm.vm ? `${vm.vm.ssh.user}@${vm.vm.ssh.host}:${vm.vm.ssh.port}` : '';
    const containers = vm.containers ?? [];
    if (containers.length === 0) rows.push([vm.name, vm.state, ssh, vm.error ?? '', '', '', '']);
    for (const c of containers) rows.push([vm.name, vm.state, ssh, c.name, c.state, c.health ?? '', c.ports.join(', ')]);
  }
  return rows.toString();
}
