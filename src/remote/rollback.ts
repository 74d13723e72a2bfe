import { posix } from 'node:path';
import { parse } from 'yaml';
import { composeUp } from '../docker/compose';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { carryCommandsRecord } from './devcontainerCommands';
import { stopEarlyStarted } from './earlyStart';
import { SECRETS_ENV_FILE, stackRef } from './stackDir';
import { markRolledBack, previousCommandsRecord, restorePrevious } from './stackRelease';
import { upAndMark } from './standingStack';
import { describeFailure, waitForStack } from './verify';

export interface RollbackOptions {
  release: string;
  timeoutMs: number;
  logTail: number;
  secretValues: string[];
  onPoll: () => void;
}

/**
 * Puts back the stack that this release swapped out, with the images its containers ran, and waits
 * until it is healthy again. Returns false when there is nothing of this release's to roll back (it
 * never swapped, or there was no stack before it).
 */
export async function rollbackStackOn(session: SshSession, plan: DeployPlan, options: RollbackOptions): Promise<boolean> {
  const { outcome, previous } = await restorePrevious(session, plan, options.release);
  if (outcome === 'rolled-back') return true;
  if (outcome !== 'restored' || !previous) {
    await stopEarlyStarted(session, plan);
    return false;
  }
  const before = await previousPlan(session, plan);
  const record = await previousCommandsRecord(session, plan);
  const stack = stackRef(before);
  await session.run(upAndMark(stack.dir, composeUp(stack)), { root: true, onLine: options.onPoll });
  const { failing, containers } = await waitForStack(session, before, options);
  // Thrown as a plain error: the compensation retries it (the stack may still be starting).
  if (failing) throw new Error(`the previous stack did not come back healthy: ${describeFailure(containers, failing.services)}\n${failing.logs}`);
  await carryCommandsRecord(session, before, record, previous.containers.find((c) => c.service === plan.stack.primaryService)?.id);
  await markRolledBack(session, plan, options.release);
  return true;
}

/** The plan as the restored stack has it: its own services, and its env file if it had one. */
async function previousPlan(session: SshSession, plan: DeployPlan): Promise<DeployPlan> {
  const dir = stackRef(plan).dir;
  const compose = parse((await session.run(['cat', '--', posix.join(dir, 'compose.yaml')])).stdout) as Record<string, unknown>;
  const hasSecrets = (await session.exec(['test', '-f', posix.join(dir, SECRETS_ENV_FILE)])).exitCode === 0;
  const secrets = hasSecrets ? (plan.stack.secrets.length > 0 ? plan.stack.secrets : [SECRETS_ENV_FILE]) : [];
  return { ...plan, stack: { ...plan.stack, compose, secrets } };
}
