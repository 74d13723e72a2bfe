import type { VmHandle } from '../domain/vm';
import { addHostKey, knownHostsFile } from '../ssh/knownHosts';
import { stateFilePath, updateState } from '../state/devState';
import type { DeploySummary } from '../workflows/types';

/**
 * The source machine's .kamal/ files from what a deploy returned, whichever workers ran its VM
 * steps: each deployed VM in dev_state.yml (with the ssh provider's claim), and its pinned host key in
 * known_hosts, so `kamal-dev list`, `status` and `ssh` here know what workers elsewhere reached.
 * A host already in known_hosts keeps its line: a change is for the user to look at (`kamal-dev ssh` says so).
 */
export async function recordDeployOnSource(projectDir: string, identity: string, summary: Pick<DeploySummary, 'service' | 'vms'>): Promise<void> {
  const deployed = summary.vms.filter((v): v is typeof v & { vm: VmHandle } => v.state === 'deployed' && v.vm !== undefined);
  if (deployed.length === 0) return;
  await updateState(stateFilePath(projectDir), (state) => {
    for (const { vm, containers, workflowId } of deployed) {
      state.deployments[vm.name] = {
        vm_id: vm.id,
        ip: vm.ip,
        type: vm.provider,
        service: summary.service,
        index: vm.index,
        ssh: vm.ssh,
        status: 'running',
        containers: (containers ?? []).map(({ ports: _ports, ...c }) => c),
        updated_at: new Date().toISOString(),
      };
      const previous = state.ssh_claims[vm.id];
      const createdBy = typeof previous === 'object' ? previous.created_by : vm.created ? workflowId : undefined;
      if (vm.provider === 'ssh') state.ssh_claims[vm.id] = { name: vm.name, project: identity, ...(createdBy ? { created_by: createdBy } : {}) };
    }
  });
  const file = knownHostsFile({ projectDir });
  for (const { vm } of deployed) if (vm.hostKey) addHostKey(file, vm.ssh.host, vm.ssh.port, vm.hostKey);
}
