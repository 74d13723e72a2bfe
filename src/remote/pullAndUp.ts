import { classifyComposeError, composePull, composeUp, containerLogs, dockerLoad, dockerSave, failedContainers } from '../docker/compose';
import { pipeToRemote } from '../docker/pipe';
import { CommandFailedError } from '../docker/runner';
import type { DeployPlan } from '../spec/plan';
import { redact } from '../spec/redact';
import type { SshSession } from '../ssh/session';
import { KamalDevError } from '../errors';
import { applyImageEntrypoint } from '../remote/imageEntrypoint';
import { withDockerConfig } from './registryAccess';
import { stackRef } from './stackDir';
import { hasStagedRelease, stagedPullRef, swapInStaged } from './stackRelease';
import { standsAsReleased, upAndMark } from './standingStack';

/** Where the stack's images are pulled from: the staged release when there is one. */
async function pullSource(session: SshSession, plan: DeployPlan) {
  return (await hasStagedRelease(session, plan)) ? stagedPullRef(plan) : stackRef(plan);
}

/** The images of these services only (never an empty list: Compose would take it for every service). */
export async function pullServiceImages(session: SshSession, plan: DeployPlan, services: string[], options: { onLine: () => void; dockerConfig?: string }): Promise<void> {
  if (services.length === 0) return;
  const source = await pullSource(session, plan);
  await session.run(withDockerConfig(options.dockerConfig, composePull(source, services)), { root: true, onLine: options.onLine });
}

/**
 * Pull (from the staged release when there is one), then swap it in and `up -d`: until every
 * image is on the VM the running stack is not touched. With skipPush the built images are
 * streamed over first and only the rest is pulled; the images of `pulled` are on the VM already
 * (pullImages). `dockerConfig` holds the registry login (openRegistryAccess). A release that stands
 * as it was started already (an unchanged redeploy) is not brought `up` again: `unchanged`.
 */
export async function pullAndUp(
  session: SshSession,
  plan: DeployPlan,
  options: { skipPush: boolean; release: string; onLine: () => void; dockerConfig?: string; pulled?: string[] },
): Promise<{ unchanged: boolean }> {
  const { onLine, dockerConfig } = options;
  const present = new Set(options.pulled ?? []);
  if (options.skipPush && plan.builds.length > 0) {
    await pipeToRemote(dockerSave(plan.builds.map((b) => b.image)), session, dockerLoad(), { root: true, onLine });
    for (const build of plan.builds) present.add(build.service);
  }
  const services = Object.keys((plan.stack.compose.services ?? {}) as object);
  await pullServiceImages(session, plan, services.filter((s) => !present.has(s)), { onLine, dockerConfig });
  const { containers } = await swapInStaged(session, plan, options.release);
  await applyImageEntrypoint(session, plan);
  if (await standsAsReleased(session, plan, containers)) return { unchanged: true };
  const stack = stackRef(plan);
  await session.run(upAndMark(stack.dir, withDockerConfig(dockerConfig, composeUp(stack))), { root: true, onLine });
  return { unchanged: false };
}

/** Compose's per-layer and per-container progress: noise in an error message. */
const COMPOSE_PROGRESS = /^\s*(\S+\s+)?(Pulling|Pulled|Waiting|Downloading|Extracting|Verifying Checksum|Download complete|Pull complete|Already exists|Creating|Created|Starting|Started|Running|Recreate|Recreated|Healthy)\b/;

const CONTAINER_LOG_LINES = 20;

/**
 * The last log lines of each container `up` blamed, read from the VM while it is still there (the
 * VM may be destroyed by the compensation before anyone could ssh in). Secret values are redacted.
 */
export async function logsOfFailedContainers(session: SshSession, error: unknown, secretValues: string[]): Promise<Record<string, string[]>> {
  if (!(error instanceof CommandFailedError)) return {};
  const logs: Record<string, string[]> = {};
  for (const name of failedContainers(error.stderr)) {
    const result = await session.exec(containerLogs(name, CONTAINER_LOG_LINES), { root: true }).catch(() => undefined);
    if (!result || result.exitCode !== 0) continue;
    const text = redact(`${result.stdout}\n${result.stderr}`, secretValues);
    logs[name] = text.split('\n').filter((l) => l.trim()).slice(-CONTAINER_LOG_LINES);
  }
  return logs;
}

/**
 * A refused registry login, an image that does not exist and an invalid compose file are the
 * user's (never retried). A container `up` blamed (a dependency whose healthcheck gave up, one that
 * exited) is final: Compose already waited as long as the healthcheck allows, and a retry would wait
 * the same way on the same stack. Anything else (a registry that is down or answers 5xx, a network
 * fault) may be transient and is retried. The message says what Compose said on which VM, then the
 * last log lines of the containers it blamed (the VM's error shows the message, so they reach the user).
 */
export function composeFailure(error: unknown, vmName: string, containerLogs: Record<string, string[]> = {}): unknown {
  if (!(error instanceof CommandFailedError)) return error;
  const step = error.argv.find((arg) => arg === 'pull' || arg === 'up') ?? 'compose';
  const lines = [...new Set(error.tail.split('\n').filter((l) => l.trim() && !COMPOSE_PROGRESS.test(l)).map((l) => l.trim()))];
  const logs = Object.entries(containerLogs).flatMap(([name, tail]) => [`last log lines of ${name}:`, ...tail.map((l) => `  ${l}`)]);
  const message = [`docker compose ${step} failed on ${vmName}: ${lines.at(-1) ?? `exit ${error.exitCode}`}`, ...logs].join('\n');
  const description = lines.slice(-8, -1).join('\n') || undefined;
  const blamed = failedContainers(error.stderr);
  if (blamed.length > 0) {
    const hint = `${blamed.join(', ')} did not come up (its healthcheck gave up, or it exited). A healthcheck that needs longer: raise its start_period or retries in the compose file.`;
    return new KamalDevError('compose', message, { type: 'StackUnhealthy', retry: 'final', description: [description, hint].filter(Boolean).join('\n'), cause: error });
  }
  const type = classifyComposeError(error.stderr);
  if (!type) return new KamalDevError('compose', message, { type: 'ComposeFailed', retry: 'transient', description, cause: error });
  return new KamalDevError('compose', message, { type, retry: 'bad-input', description, cause: error });
}
