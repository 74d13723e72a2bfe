import { classifyComposeError, composePull, composeUp, dockerLoad, dockerSave } from '../docker/compose';
import { pipeToRemote } from '../docker/pipe';
import { CommandFailedError } from '../docker/runner';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { KamalDevError } from '../errors';
import { withDockerConfig } from './registryAccess';
import { stackRef } from './stackDir';

/**
 * `pull` then `up -d`; with skipPush the built images are streamed over first and only the rest is
 * pulled. `dockerConfig` holds the registry login (openRegistryAccess).
 */
export async function pullAndUp(session: SshSession, plan: DeployPlan, skipPush: boolean, onLine: () => void, dockerConfig?: string): Promise<void> {
  const stack = stackRef(plan);
  let pullServices: string[] = [];
  if (skipPush && plan.builds.length > 0) {
    await pipeToRemote(dockerSave(plan.builds.map((b) => b.image)), session, dockerLoad(), { root: true, onLine });
    const built = new Set(plan.builds.map((b) => b.service));
    pullServices = Object.keys((plan.stack.compose.services ?? {}) as object).filter((s) => !built.has(s));
    if (pullServices.length === 0) return void (await session.run(withDockerConfig(dockerConfig, composeUp(stack)), { root: true, onLine }));
  }
  await session.run(withDockerConfig(dockerConfig, composePull(stack, pullServices)), { root: true, onLine });
  await session.run(withDockerConfig(dockerConfig, composeUp(stack)), { root: true, onLine });
}

/** Compose's per-layer and per-container progress: noise in an error message. */
const COMPOSE_PROGRESS = /^\s*(\S+\s+)?(Pulling|Pulled|Waiting|Downloading|Extracting|Verifying Checksum|Download complete|Pull complete|Already exists|Creating|Created|Starting|Started|Running|Recreate|Recreated|Healthy)\b/;

/**
 * A refused registry login, an image that does not exist and an invalid compose file are the
 * user's (never retried); anything else (a registry that is down or answers 5xx, a network fault)
 * may be transient and is retried; either way the message says what Compose said, on which VM.
 */
export function composeFailure(error: unknown, vmName: string): unknown {
  if (!(error instanceof CommandFailedError)) return error;
  const step = error.argv.find((arg) => arg === 'pull' || arg === 'up') ?? 'compose';
  const lines = [...new Set(error.tail.split('\n').filter((l) => l.trim() && !COMPOSE_PROGRESS.test(l)).map((l) => l.trim()))];
  const message = `docker compose ${step} failed on ${vmName}: ${lines.at(-1) ?? `exit ${error.exitCode}`}`;
  const description = lines.slice(-8, -1).join('\n') || undefined;
  const type = classifyComposeError(error.stderr);
  if (!type) return new KamalDevError('compose', message, { type: 'ComposeFailed', retry: 'transient', description, cause: error });
  return new KamalDevError('compose', message, { type, retry: 'bad-input', description, cause: error });
}
