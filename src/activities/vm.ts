import { adoptVmActivity } from './adoptVm';
import { bootstrapVmActivity } from './bootstrapVm';
import { composeUpActivity } from './composeUp';
import { destroyVmActivity } from './destroyVm';
import { listVmsActivity } from './listVms';
import { provisionVmActivity } from './provisionVm';
import { pullImagesActivity } from './pullImages';
import { removeStackActivity } from './removeStack';
import { rollbackStackActivity } from './rollbackStack';
import { runDevcontainerCommandsActivity } from './runDevcontainerCommands';
import { startVmActivity } from './startVm';
import { statusActivities } from './status';
import { stopVmActivity } from './stopVm';
import type { DeployActivities, LifecycleActivities } from './types';
import { uploadStackActivity } from './uploadStack';
import { verifyStackActivity } from './verifyStack';
import { VmActivityDeps, VmContext } from './vmContext';
import { waitForSshActivity } from './waitForSsh';
import { seedWorkspaceActivity } from './workspaceSeed';

export type VmActivities = Pick<
  DeployActivities,
  'provisionVm' | 'destroyVm' | 'waitForSsh' | 'bootstrapVm' | 'uploadStack' | 'seedWorkspace' | 'pullImages' | 'composeUp' | 'rollbackStack' | 'verifyStack' | 'runDevcontainerCommands'
> &
  LifecycleActivities & { close(): Promise<void> };

/**
 * The VM steps of a deploy and of the lifecycle commands, sharing one SSH pool per worker: each a
 * thin adapter (one file per step) over what src/remote runs on the VM and what the provider does.
 */
export function createVmActivities(deps: VmActivityDeps): VmActivities {
  const ctx = new VmContext(deps);
  return {
    provisionVm: provisionVmActivity(ctx),
    destroyVm: destroyVmActivity(ctx),
    waitForSsh: waitForSshActivity(ctx),
    bootstrapVm: bootstrapVmActivity(ctx),
    uploadStack: uploadStackActivity(ctx),
    seedWorkspace: seedWorkspaceActivity(ctx),
    pullImages: pullImagesActivity(ctx),
    composeUp: composeUpActivity(ctx),
    rollbackStack: rollbackStackActivity(ctx),
    verifyStack: verifyStackActivity(ctx),
    runDevcontainerCommands: runDevcontainerCommandsActivity(ctx),
    listVms: listVmsActivity(ctx),
    stopVm: stopVmActivity(ctx),
    startVm: startVmActivity(ctx),
    removeStack: removeStackActivity(ctx),
    ...statusActivities(ctx),
    adoptVm: adoptVmActivity(ctx),
    close: () => ctx.closeAll(),
  };
}
