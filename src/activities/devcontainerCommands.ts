import { posix } from 'node:path';
import { composeContainerId, composeExec, containerStartedAt } from '../docker/compose';
import { CommandFailedError } from '../docker/runner';
import { KamalDevError } from '../errors';
import type { LifecycleStep } from '../spec/devcontainer-vars';
import { lifecycleSchedule } from '../spec/lifecycle';
import type { DeployPlan, LifecyclePlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { stackRef } from './stackDir';

/**
 * What ran last on this VM: onCreateCommand, updateContentCommand and postCreateCommand run once
 * per container (a redeploy that keeps the container does not run them again; one that replaces it
 * does), postStartCommand once per start.
 */
interface Marker {
  created?: string;
  started?: string;
}

const MARKER_FILE = '.devcontainer-commands.json';

export interface CommandsResult {
  ran: string[];
  /** Hooks after waitFor that failed: the VM still counts as deployed (absent when none failed). */
  failed?: string[];
}

/** Runs what devcontainer.json (and its features) ask for after the stack is up and healthy, in the spec's order. */
export async function runDevcontainerCommands(session: SshSession, plan: DeployPlan, vmName: string, onLine: () => void): Promise<CommandsResult> {
  const lifecycle = plan.stack.lifecycle;
  if (!lifecycle) return { ran: [] };
  const stack = stackRef(plan);
  const service = plan.stack.primaryService;
  const containerId = (await session.run(composeContainerId(stack, service), { root: true })).stdout.trim();
  if (!containerId) throw new KamalDevError('compose', `${vmName}: service ${service} has no container to run its lifecycle commands in`);
  const startedAt = (await session.run(containerStartedAt(containerId), { root: true })).stdout.trim();
  const markerFile = posix.join(stack.dir, MARKER_FILE);
  const marker = parseMarker((await session.exec(['cat', '--', markerFile])).stdout);

  const result: CommandsResult = { ran: [] };
  let recordedCreate = false;
  for (const hook of lifecycleSchedule(lifecycle)) {
    if (hook.when === 'once' ? marker.created === containerId : marker.started === startedAt) continue;
    if (hook.when === 'start' && !recordedCreate) {
      // Recorded before postStartCommand: if that one fails, a retry does not run the create hooks again.
      await session.upload(markerFile, JSON.stringify({ created: containerId, started: marker.started } satisfies Marker));
      recordedCreate = true;
    }
    try {
      for (const group of hook.groups) await runSteps(session, plan, lifecycle, { name: hook.hook, steps: group, vmName, onLine });
      result.ran.push(hook.hook);
    } catch (error) {
      if (hook.blocking || !(error instanceof KamalDevError)) throw error;
      (result.failed ??= []).push(error.message);
    }
  }
  await session.upload(markerFile, JSON.stringify({ created: containerId, started: startedAt } satisfies Marker));
  return result;
}

/** The entries of an object-form command run in parallel, as devcontainer tools run them. */
async function runSteps(
  session: SshSession,
  plan: DeployPlan,
  lifecycle: LifecyclePlan,
  what: { name: string; steps: LifecycleStep[]; vmName: string; onLine: () => void },
): Promise<void> {
  await Promise.all(
    what.steps.map(async (step) => {
      const command = 'shell' in step ? ['/bin/sh', '-c', step.shell] : step.argv;
      try {
        await session.run(composeExec(stackRef(plan), plan.stack.primaryService, command, lifecycle), { root: true, onLine: what.onLine });
      } catch (error) {
        if (!(error instanceof CommandFailedError)) throw error;
        const label = [what.name, step.feature && `of feature ${step.feature}`, step.name].filter(Boolean).join(' ');
        const output = `${error.stdout}\n${error.stderr}`.split('\n').filter((l) => l.trim());
        // A KamalDevError is not retried: the user's own command failed, and running it again may not be safe.
        throw new KamalDevError('compose', `${label} failed on ${what.vmName} (exit code ${error.exitCode})${output.length ? `: ${output.at(-1)}` : ''}`, {
          description: output.slice(-20, -1).join('\n') || undefined,
        });
      }
    }),
  );
}

function parseMarker(text: string): Marker {
  try {
    return JSON.parse(text) as Marker;
  } catch {
    return {};
  }
}
