import type { VmHandle } from '../activities/types';
import { addHostKey, forgetHost, knownHostsFile } from '../ssh/knownHosts';
import { stateFilePath, updateState } from '../state/devState';
import type { DeploySummary, LifecycleSummary } from '../workflows/types';

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

/**
 * The source machine's .kamal/ after stop, start or remove, whichever workers ran them: a stopped VM
 * is recorded stopped, a started one running with its containers, a removed one leaves dev_state.yml
 * and (unless it is an existing host, provider ssh, which stays the same machine) known_hosts, so the
 * next machine on its address is a new host.
 */
export async function recordLifecycleOnSource(projectDir: string, action: 'stop' | 'start' | 'remove', summary: LifecycleSummary): Promise<void> {
  const done = summary.vms.filter((v) => v.state === 'done');
  await updateState(stateFilePath(projectDir), (state) => {
    for (const { name, containers } of done) {
      const record = state.deployments[name];
      if (action === 'remove') delete state.deployments[name];
      else if (record) Object.assign(record, { status: action === 'stop' ? 'stopped' : 'running', updated_at: new Date().toISOString() }, containers ? { containers: containers.map(({ ports: _ports, ...c }) => c) } : {});
    }
  });
  if (action !== 'remove') return;
  for (const { vm } of done) if (vm && vm.provider !== 'ssh') forgetHost(knownHostsFile({ projectDir }), vm.ssh.host, vm.ssh.port);
}
