import type { VmHandle } from '../domain/vm';
import type { DeployPlan } from '../spec/plan';
import { updateProjectState } from '../state/source';

/** The VM in the source machine's .kamal/dev_state.yml (where this machine holds the project), keeping its last containers. */
export async function recordVm(plan: DeployPlan, vm: VmHandle, status: string): Promise<void> {
  await updateProjectState(plan, (state) => {
    const previous = state.deployments[vm.name];
    state.deployments[vm.name] = {
      vm_id: vm.id,
      ip: vm.ip,
      type: vm.provider,
      service: plan.service,
      index: vm.index,
      ssh: vm.ssh,
      status,
      containers: previous?.containers ?? [],
      updated_at: new Date().toISOString(),
    };
  });
}
