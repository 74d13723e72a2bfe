import { ApplicationFailure } from '@temporalio/common';
import { classifyComposeError, composePull, composeUp, dockerLoad, dockerSave } from '../docker/compose';
import { pipeToRemote } from '../docker/pipe';
import { CommandFailedError } from '../docker/runner';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { KamalDevError } from '../errors';
import { userFailure } from './failures';
import { stackRef } from './stackDir';
import { hasStagedRelease, stagedPullRef, swapInStaged } from './stackRelease';

/**
 * Pull (from the staged release when there is one), then swap it in and `up -d`: until every
 * image is on the VM the running stack is not touched. With skipPush the built images are
 * streamed over first and only the rest is pulled.
 */
export async function pullAndUp(session: SshSession, plan: DeployPlan, options: { skipPush: boolean; release: string; onLine: () => void }): Promise<void> {
  const { onLine } = options;
  const source = (await hasStagedRelease(session, plan)) ? stagedPullRef(plan) : stackRef(plan);
  let pullServices: string[] = [];
  let pullNeeded = true;
  if (options.skipPush && plan.builds.length > 0) {
    await pipeToRemote(dockerSave(plan.builds.map((b) => b.image)), session, dockerLoad(), { root: true, onLine });
    const built = new Set(plan.builds.map((b) => b.service));
    pullServices = Object.keys((plan.stack.compose.services ?? {}) as object).filter((s) => !built.has(s));
    pullNeeded = pullServices.length > 0;
  }
  if (pullNeeded) await session.run(composePull(source, pullServices), { root: true, onLine });
  await swapInStaged(session, plan, options.release);
  await session.run(composeUp(stackRef(plan)), { root: true, onLine });
}

/** Compose's per-layer and per-container progress: noise in an error message. */
const COMPOSE_PROGRESS = /^\s*(\S+\s+)?(Pulling|Pulled|Waiting|Downloading|Extracting|Verifying Checksum|Download complete|Pull complete|Already exists|Creating|Created|Starting|Started|Running|Recreate|Recreated|Healthy)\b/;

/**
 * Registry and compose-file problems are the user's (not retried); anything else may be transient
 * and is retried, but either way the message says what Compose said, on which VM.
 */
export function composeFailure(error: unknown, vmName: string): unknown {
  if (!(error instanceof CommandFailedError)) return error;
  const step = error.argv.find((arg) => arg === 'pull' || arg === 'up') ?? 'compose';
  const lines = [...new Set(error.tail.split('\n').filter((l) => l.trim() && !COMPOSE_PROGRESS.test(l)).map((l) => l.trim()))];
  const message = `docker compose ${step} failed on ${vmName}: ${lines.at(-1) ?? `exit ${error.exitCode}`}`;
  const description = lines.slice(-8, -1).join('\n') || undefined;
  const type = classifyComposeError(error.stderr);
  if (!type) return ApplicationFailure.create({ type: 'ComposeFailed', message, nonRetryable: false, details: [{ kind: 'compose', description }] });
  return userFailure(type, new KamalDevError('compose', message, { description }));
}
