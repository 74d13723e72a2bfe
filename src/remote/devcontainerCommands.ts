import { posix } from 'node:path';
import { composeContainerId, containerStartedAt } from '../docker/compose';
import { KamalDevError } from '../errors';
import { lifecycleSchedule } from '../spec/lifecycle';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { recordCommandOutcomes } from './commandFailures';
import type { FailedCommand } from '../domain/stack';
import { LifecycleCommandError, runLifecycleSteps } from './lifecycleSteps';
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
/** The secrets of remoteEnv and the commands (mode 600), there only while the commands run. */
const SECRETS_EXEC_FILE = 'lifecycle.env';

export interface CommandsResult {
  ran: string[];
  /** Hooks after waitFor that failed: the VM still counts as deployed (absent when none failed). */
  failed?: string[];
}

/**
 * Runs what devcontainer.json (and its features) ask for after the stack is up and healthy, in the
 * spec's order. `secretValues` holds the values of `lifecycle.secrets`.
 */
export async function runDevcontainerCommands(
  session: SshSession,
  plan: DeployPlan,
  vmName: string,
  onLine: () => void,
  secretValues: Record<string, string> = {},
): Promise<CommandsResult> {
  const lifecycle = plan.stack.lifecycle;
  if (!lifecycle) return { ran: [] };
  const stack = stackRef(plan);
  const service = plan.stack.primaryService;
  const containerId = (await session.run(composeContainerId(stack, service), { root: true })).stdout.trim();
  if (!containerId) throw new KamalDevError('compose', `${vmName}: service ${service} has no container to run its lifecycle commands in`);
  const startedAt = (await session.run(containerStartedAt(containerId), { root: true })).stdout.trim();
  const markerFile = posix.join(stack.dir, MARKER_FILE);
  const marker = parseMarker((await session.exec(['cat', '--', markerFile])).stdout);

  const secrets = { values: secretValues, file: posix.join(stack.dir, SECRETS_EXEC_FILE) };
  const result: CommandsResult = { ran: [] };
  const failures: FailedCommand[] = [];
  let recordedCreate = false;
  for (const hook of lifecycleSchedule(lifecycle)) {
    if (hook.when === 'once' ? marker.created === containerId : marker.started === startedAt) continue;
    if (hook.when === 'start' && !recordedCreate) {
      // Recorded before postStartCommand: if that one fails, a retry does not run the create hooks again.
      await session.upload(markerFile, JSON.stringify({ created: containerId, started: marker.started } satisfies Marker));
      recordedCreate = true;
    }
    try {
      for (const group of hook.groups) await runLifecycleSteps(session, lifecycle, containerId, secrets, { name: hook.hook, steps: group, vmName, onLine });
      result.ran.push(hook.hook);
    } catch (error) {
      if (hook.blocking || !(error instanceof KamalDevError)) throw error;
      (result.failed ??= []).push(error.message);
      if (error instanceof LifecycleCommandError) failures.push(error.failed);
    }
  }
  await session.upload(markerFile, JSON.stringify({ created: containerId, started: startedAt } satisfies Marker));
  // After waitFor a failure does not fail the VM: `status` shows it from this record.
  await recordCommandOutcomes(session, stack.dir, result.ran, failures);
  return result;
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
