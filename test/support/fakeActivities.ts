import { Context } from '@temporalio/activity';
import type { DeployInput } from '../../src/domain/deploy';
import type { VmHandle, VmRef } from '../../src/domain/vm';
import type { Activities } from '../../src/activities/types';
import type { DeployPlan } from '../../src/spec/plan';
import { fakePlan } from './fakePlan';

export interface FakeCall {
  step: string;
  vm?: string;
  attempt: number;
  event: 'start' | 'done';
  /** The task queue of the worker that ran it. */
  taskQueue?: string;
  /** The host key the input's VM handle pinned, if any. */
  hostKey?: string;
}

export interface FakeOptions {
  /** How long each step takes (ms); cancellation-aware. */
  delay?: (step: string, vm?: string) => number;
  /** Resolves when this step may go on (e.g. a build that waits until the VMs got somewhere); after 30 s it goes on anyway. */
  gate?: (step: string, calls: FakeCall[]) => boolean;
  /** Return an error to make this attempt fail. */
  fail?: (step: string, vm: string | undefined, attempt: number) => Error | undefined;
  plan?: (input: DeployInput) => DeployPlan;
  /** Receives every start and completion, e.g. to append them to a file another process reads. */
  record?: (call: FakeCall) => void;
  /** VMs that had no stack before this run (rollbackStack finds nothing to roll back there). */
  createdVms?: string[];
  /** What a real worker resolves secret names to; the fakes use values only in memory. */
  secrets?: Record<string, string>;
  /** VMs of this project that exist before the run (an earlier deploy made them): a redeploy finds them. */
  existingVms?: string[];
  /** waitForSsh returns `ssh-ed25519 <name>-key` as the host key of each VM (as the real one returns the key it authenticated). */
  hostKeys?: boolean;
}

/** Activities that behave like the real ones at the contract level, for workflow tests on a real server. */
export function fakeActivities(options: FakeOptions = {}): { activities: Activities; calls: FakeCall[]; vms: Map<string, string> } {
  const calls: FakeCall[] = [];
  // VM name -> the createdBy it was made with, as the real providers label it.
  const vms = new Map<string, string>((options.existingVms ?? []).map((name) => [name, 'an-earlier-deploy']));
  const note = (call: FakeCall) => {
    calls.push(call);
    options.record?.(call);
  };
  const step = <I, O>(name: string, vmOf: (input: I) => string | undefined, body: (input: I) => O) => async (input: I): Promise<O> => {
    const vm = vmOf(input);
    const { attempt, taskQueue } = Context.current().info;
    const hostKey = (input as { vm?: { hostKey?: string } } | undefined)?.vm?.hostKey;
    const where = { taskQueue, ...(hostKey ? { hostKey } : {}) };
    note({ step: name, vm, attempt, event: 'start', ...where });
    const ms = options.delay?.(name, vm) ?? 0;
    if (ms > 0) await Context.current().sleep(ms);
    for (const until = Date.now() + 30_000; options.gate && !options.gate(name, calls) && Date.now() < until; ) await Context.current().sleep(50);
    const error = options.fail?.(name, vm, attempt);
    if (error) throw error;
    const result = body(input);
    note({ step: name, vm, attempt, event: 'done', ...where });
    return result;
  };
  // As the real activities do: names come in through history, values are looked up here on the worker.
  const resolve = (names: (string | undefined)[]) => {
    for (const name of names) {
      if (name && options.secrets && !options.secrets[name]) throw new Error(`secret ${name} is not set on this worker`);
    }
  };
  const handle = (vm: VmRef): VmHandle => ({ ...vm, id: `id-${vm.name}`, provider: 'fake', ssh: { host: '127.0.0.1', port: 2200 + vm.index, user: 'root' }, ip: '127.0.0.1' });
  const none = () => undefined;
  const vmName = (i: { vm: VmRef; plan: DeployPlan }) => i.vm.name;
  const activities: Activities = {
    planDeploy: step('planDeploy', none, (i: DeployInput) => (options.plan ?? fakePlan)(i)),
    buildImages: step('buildImages', none, (i: { plan: DeployPlan }) => {
      resolve(i.plan.builds.flatMap((b) => b.secrets));
      return i.plan.builds.map((b) => ({ service: b.service, image: b.image, imageId: 'sha256:1111' }));
    }),
    checkImages: step('checkImages', none, (i: { plan: DeployPlan }) => i.plan.builds.map((b) => ({ service: b.service, image: b.image, imageId: 'sha256:1111' }))),
    removeBuildImages: step('removeBuildImages', none, none),
    pushImages: step('pushImages', none, (i: { plan: DeployPlan; images: { image: string }[] }) => {
      resolve([i.plan.registry.usernameSecret, i.plan.registry.passwordSecret]);
      return i.images.map((x) => ({ image: x.image, digest: 'sha256:2222' }));
    }),
    pushWorkspaceSeed: step('pushWorkspaceSeed', none, () => ({ image: 'registry.test/wftest-workspace@sha256:3333', digest: 'sha256:3333', pushed: true, files: 1, bytes: 10 })),
    provisionVm: step('provisionVm', vmName, (i: { vm: VmRef; createdBy?: string }) => {
      if (!vms.has(i.vm.name)) vms.set(i.vm.name, i.createdBy ?? '');
      return { ...handle(i.vm), created: vms.get(i.vm.name) === (i.createdBy ?? '') };
    }),
    destroyVm: step('destroyVm', vmName, (i: { vm: VmRef; createdBy?: string }) => {
      if (!vms.has(i.vm.name)) return { outcome: 'gone' as const };
      if (i.createdBy !== undefined && vms.get(i.vm.name) !== i.createdBy) return { outcome: 'kept' as const };
      vms.delete(i.vm.name);
      return { outcome: 'destroyed' as const };
    }),
    waitForSsh: step('waitForSsh', vmName, (i: { vm: VmRef }) => (options.hostKeys ? { hostKey: `ssh-ed25519 ${i.vm.name}-key` } : undefined)),
    runDevcontainerCommands: step('runDevcontainerCommands', vmName, () => ({ ran: ['postCreateCommand'] })),
    bootstrapVm: step('bootstrapVm', vmName, () => ({ installed: true, docker: '20.10', compose: '2.26' })),
    uploadStack: step('uploadStack', vmName, () => ({ stackDir: '/opt/kamal-dev/wftest' })),
    seedWorkspace: step('seedWorkspace', vmName, () => ({ workspace: 'seeded' })),
    pullImages: step('pullImages', vmName, none),
    composeUp: step('composeUp', vmName, (i: { vm: VmRef; plan: DeployPlan }) => {
      resolve([i.plan.registry.passwordSecret, ...i.plan.stack.secrets]);
    }),
    // As the real one: a VM that this run made had no stack before it, so there is nothing to roll back.
    rollbackStack: step('rollbackStack', vmName, (i: { vm: VmRef }) => ({ rolledBack: !options.createdVms?.includes(i.vm.name) })),
    verifyStack: step('verifyStack', vmName, () => [{ service: 'app', name: 'wftest-app-1', state: 'running', health: 'healthy', ports: ['3000'] }]),
    listVms: step('listVms', none, (i: { plan: DeployPlan }) => i.plan.vms.map((v) => handle({ deployment: i.plan.service, ...v }))),
    stopVm: step('stopVm', vmName, none),
    startVm: step('startVm', vmName, (i: { vm: VmRef }) => handle(i.vm)),
    removeStack: step('removeStack', vmName, none),
    stackStatus: step('stackStatus', vmName, () => [{ service: 'app', name: 'wftest-app-1', state: 'running', ports: [] }]),
    commandFailures: step('commandFailures', vmName, () => []),
    adoptVm: step('adoptVm', (i: { name: string }) => i.name, (i: { name: string; plan: DeployPlan }) => handle({ deployment: i.plan.service, name: i.name, index: 1 })),
  };
  return { activities, calls, vms };
}

/** The completed calls of one step, as `vm` names (or the step name for source steps). */
export function done(calls: FakeCall[], stepName: string): string[] {
  return calls.filter((c) => c.event === 'done' && c.step === stepName).map((c) => c.vm ?? c.step);
}
