import { classifyComposeError, composePull, composeUp, containerLogs, dockerLoad, dockerSave, failedContainers } from '../docker/compose';
import { pipeToRemote } from '../docker/pipe';
import { CommandFailedError } from '../docker/runner';
import type { DeployPlan } from '../spec/plan';
import { redact } from '../spec/redact';
import type { SshSession } from '../ssh/session';
import { KamalDevError } from '../errors';
import { withDockerConfig } from './registryAccess';
import { stackRef } from './stackDir';
import { hasStagedRelease, stagedPullRef, swapInStaged } from './stackRelease';

/**
 * Pull (from the staged release when there is one), then swap it in and `up -d`: until every
 * image is on the VM the running stack is not touched. With skipPush the built images are
 * streamed over first and only the rest is pulled. `dockerConfig` holds the registry login
 * (openRegistryAccess).
 */
export async function pullAndUp(session: SshSession, plan: DeployPlan, options: { skipPush: boolean; release: string; onLine: () => void; dockerConfig?: string }): Promise<void> {
  const { onLine, dockerConfig } = options;
  const source = (await hasStagedRelease(session, plan)) ? stagedPullRef(plan) : stackRef(plan);
  let pullServices: string[] = [];
  let pullNeeded = true;
  if (options.skipPush && plan.builds.length > 0) {
    await pipeToRemote(dockerSave(plan.builds.map((b) => b.image)), session, dockerLoad(), { root: true, onLine });
    const built = new Set(plan.builds.map((b) => b.service));
    pullServices = Object.keys((plan.stack.compose.services ?? {}) as object).filter((s) => !built.has(s));
    pullNeeded = pullServices.length > 0;
  }
  if (pullNeeded) await session.run(withDockerConfig(dockerConfig, composePull(source, pullServices)), { root: true, onLine });
  await swapInStaged(session, plan, options.release);
  await session.run(withDockerConfig(dockerConfig, composeUp(stackRef(plan))), { root: true, onLine });
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
 * user's (never retried); anything else (a registry that is down or answers 5xx, a network fault)
 * may be transient and is retried; either way the message says what Compose said, on which VM, and
 * shows the last log lines of the containers it blamed.
 */
export function composeFailure(error: unknown, vmName: string, containerLogs: Record<string, string[]> = {}): unknown {
  if (!(error instanceof CommandFailedError)) return error;
  const step = error.argv.find((arg) => arg === 'pull' || arg === 'up') ?? 'compose';
  const lines = [...new Set(error.tail.split('\n').filter((l) => l.trim() && !COMPOSE_PROGRESS.test(l)).map((l) => l.trim()))];
  const message = `docker compose ${step} failed on ${vmName}: ${lines.at(-1) ?? `exit ${error.exitCode}`}`;
  const logs = Object.entries(containerLogs).flatMap(([name, tail]) => [`last log lines of ${name}:`, ...tail.map((l) => `  ${l}`)]);
  const description = [...lines.slice(-8, -1), ...logs].join('\n') || undefined;
  const type = classifyComposeError(error.stderr);
  if (!type) return new KamalDevError('compose', message, { type: 'ComposeFailed', retry: 'transient', description, cause: error });
  return new KamalDevError('compose', message, { type, retry: 'bad-input', description, cause: error });
}
