import { posix } from 'node:path';
import { composeContainerId, composeExec, containerStartedAt } from '../docker/compose';
import { CommandFailedError } from '../docker/runner';
import { KamalDevError } from '../errors';
import type { LifecycleStep } from '../spec/devcontainer-vars';
import type { DeployPlan, LifecyclePlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { stackRef } from './stackDir';

/**
 * What ran last on this VM: postCreateCommand runs once per container (a redeploy that keeps the
 * container does not run it again; one that replaces it does), postStartCommand once per start.
 */
interface Marker {
  created?: string;
  started?: string;
}

const MARKER_FILE = '.devcontainer-commands.json';

/** Runs what devcontainer.json asks for after the stack is up and healthy; returns the names of what ran. */
export async function runDevcontainerCommands(session: SshSession, plan: DeployPlan, vmName: string, onLine: () => void): Promise<string[]> {
  const lifecycle = plan.stack.lifecycle;
  if (!lifecycle) return [];
  const stack = stackRef(plan);
  const service = plan.stack.primaryService;
  const containerId = (await session.run(composeContainerId(stack, service), { root: true })).stdout.trim();
  if (!containerId) throw new KamalDevError('compose', `${vmName}: service ${service} has no container to run postCreateCommand in`);
  const startedAt = (await session.run(containerStartedAt(containerId), { root: true })).stdout.trim();
  const markerFile = posix.join(stack.dir, MARKER_FILE);
  const marker = parseMarker((await session.exec(['cat', '--', markerFile])).stdout);

  const run = (name: string, steps: LifecycleStep[]) => runSteps(session, plan, lifecycle, { name, steps, vmName, onLine });
  const ran: string[] = [];
  if (lifecycle.postCreate.length > 0 && marker.created !== containerId) {
    await run('postCreateCommand', lifecycle.postCreate);
    ran.push('postCreateCommand');
  }
  // Recorded before postStartCommand: if that one fails, a retry does not run postCreateCommand again.
  await session.upload(markerFile, JSON.stringify({ created: containerId, started: marker.started } satisfies Marker));
  if (lifecycle.postStart.length > 0 && marker.started !== startedAt) {
    await run('postStartCommand', lifecycle.postStart);
    ran.push('postStartCommand');
  }
  await session.upload(markerFile, JSON.stringify({ created: containerId, started: startedAt } satisfies Marker));
  return ran;
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
        const label = step.name ? `${what.name} ${step.name}` : what.name;
        const output = `${error.stdout}\n${error.stderr}`.split('\n').filter((l) => l.trim());
        // A KamalDevError is not retried: the user's own command failed, and running it again may not be safe.
        throw new KamalDevError('compose', `${label} failed on ${what.vmName} (exit code ${error.exitCode})${output.length ? `: ${output.at(-1)}` : ''}`, {
          description: output.slice(-20, -1).join('\n') || undefined,
        });
      }
    }),
  );
}

/**
 * After a rollback: the record of the stack before the swap, moved to the rolled-back primary
 * container when postCreateCommand had run in the one it replaces (a rollback is not a new
 * workspace, so it does not run postCreateCommand again; its postStartCommand runs at the next deploy).
 */
export async function carryCommandsRecord(session: SshSession, plan: DeployPlan, record: string, previousContainerId: string | undefined): Promise<void> {
  if (!record.trim()) return;
  const marker = parseMarker(record);
  const stack = stackRef(plan);
  const containerId = (await session.run(composeContainerId(stack, plan.stack.primaryService), { root: true })).stdout.trim();
  // compose ps may print short ids, docker inspect prints long ones.
  const same = !!previousContainerId && !!marker.created && (previousContainerId.startsWith(marker.created) || marker.created.startsWith(previousContainerId));
  const created = same && containerId ? containerId : marker.created;
  await session.upload(posix.join(stack.dir, MARKER_FILE), JSON.stringify({ created, started: marker.started } satisfies Marker));
}

function parseMarker(text: string): Marker {
  try {
    return JSON.parse(text) as Marker;
  } catch {
    return {};
  }
}
