import { placeholdersIn } from './compose-secrets';
import type { Devcontainer } from './devcontainer';
import type { LifecycleStep } from './devcontainer-vars';
import type { LifecyclePlan, WaitFor } from './plan';

/** Lifecycle commands of the installed features, in install order (each one's own hooks). */
export type FeatureCommands = { feature: string; commands: Partial<Record<VmHook, LifecycleStep[]>> }[];

type VmHook = 'onCreateCommand' | 'updateContentCommand' | 'postCreateCommand' | 'postStartCommand' | 'postAttachCommand';

/** The spec's order of the hooks that run in the container. */
export const VM_HOOKS: readonly VmHook[] = ['onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand'];

const KEYS = { onCreateCommand: 'onCreate', updateContentCommand: 'updateContent', postCreateCommand: 'postCreate', postStartCommand: 'postStart', postAttachCommand: 'postAttach' } as const;

/**
 * The LifecyclePlan of a devcontainer: each hook holds the features' commands first (in install
 * order, each marked with its feature), then the devcontainer's own. Undefined when nothing runs
 * on a VM; keys of hooks that are empty are left out (postCreate/postStart always present).
 */
export function lifecyclePlan(devcontainer: Devcontainer, features: FeatureCommands = []): LifecyclePlan | undefined {
  const hook = (name: VmHook): LifecycleStep[] => [...features.flatMap((f) => (f.commands[name] ?? []).map((step) => ({ ...step, feature: f.feature }))), ...devcontainer[name]];
  const steps = Object.fromEntries((['onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand', 'postAttachCommand'] as const).map((name) => [name, hook(name)]));
  if (VM_HOOKS.every((name) => steps[name].length === 0) && steps.postAttachCommand.length === 0) return undefined;
  // A null remoteEnv value unsets a variable; an exec can only leave it out.
  const env = Object.fromEntries(Object.entries(devcontainer.remoteEnv).filter((e): e is [string, string] => e[1] !== null));
  const optional = (name: VmHook) => (steps[name].length ? { [KEYS[name]]: steps[name] } : {});
  const secrets = placeholdersIn({ env, steps }).sort();
  return {
    workdir: devcontainer.workspaceFolder,
    ...(devcontainer.remoteUser ? { user: devcontainer.remoteUser } : {}),
    env,
    ...optional('onCreateCommand'),
    ...optional('updateContentCommand'),
    postCreate: steps.postCreateCommand,
    postStart: steps.postStartCommand,
    ...optional('postAttachCommand'),
    ...(devcontainer.waitFor ? { waitFor: devcontainer.waitFor } : {}),
    ...(secrets.length ? { secrets } : {}),
  };
}

export interface ScheduledHook {
  hook: VmHook;
  /** Run one after another; the steps of one group (an object-form command) in parallel. */
  groups: LifecycleStep[][];
  /** once: per container (onCreate, updateContent, postCreate); start: per container start. */
  when: 'once' | 'start';
  /** A failure fails the VM; after waitFor, a failure is reported and the VM still counts as deployed. */
  blocking: boolean;
}

/** What runs on a VM, in the spec's order, with waitFor's default postCreateCommand (kamal-dev's choice). */
export function lifecycleSchedule(lifecycle: LifecyclePlan): ScheduledHook[] {
  const waitFor: WaitFor = lifecycle.waitFor ?? 'postCreateCommand';
  const last = waitFor === 'initializeCommand' ? -1 : waitFor === 'postAttachCommand' ? VM_HOOKS.length - 1 : VM_HOOKS.indexOf(waitFor);
  return VM_HOOKS.map((hook, i) => ({ hook, groups: lifecycleGroups(lifecycle[KEYS[hook]] ?? []), when: hook === 'postStartCommand' ? ('start' as const) : ('once' as const), blocking: i <= last })).filter(
    (h) => h.groups.length > 0,
  );
}

/** Consecutive steps of the same origin (a feature, or the devcontainer itself) form one group. */
export function lifecycleGroups(steps: LifecycleStep[]): LifecycleStep[][] {
  const groups: LifecycleStep[][] = [];
  for (const step of steps) {
    const current = groups.at(-1);
    if (current && current[0].feature === step.feature) current.push(step);
    else groups.push([step]);
  }
  return groups;
}
