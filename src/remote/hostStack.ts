import type { HostStack } from '../providers/ssh-host';
import type { VmInstance } from '../providers/types';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { claimMarkerOn, readMarkerOn, removeMarkerOn, writeMarkerOn } from './hostMarker';
import { removeStackOn, startStackOn, stopStackOn } from './stackControl';

/** What the ssh provider does on a claimed host, each operation over a session to that host. */
export function hostStackOver(plan: DeployPlan, sessionTo: (vm: VmInstance) => Promise<SshSession>): HostStack {
  const onHost = (operation: (session: SshSession, plan: DeployPlan) => Promise<void>) => async (vm: VmInstance) => operation(await sessionTo(vm), plan);
  return {
    remove: onHost(removeStackOn),
    stop: onHost(stopStackOn),
    start: onHost(startStackOn),
    readMarker: async (vm) => readMarkerOn(await sessionTo(vm)),
    writeMarker: async (vm, marker) => writeMarkerOn(await sessionTo(vm), marker),
    claimMarker: async (vm, marker) => claimMarkerOn(await sessionTo(vm), marker),
    removeMarker: onHost(removeMarkerOn),
  };
}
