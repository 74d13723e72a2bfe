import { composeLogs, composePs, parseComposePs, ServiceState } from '../docker/compose';
import { redact } from '../spec/redact';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { stackRef } from './stackDir';
import type { ContainerState } from '../domain/stack';

type Verdict = 'ok' | 'pending' | 'failed';

// Compose writes terminal control sequences (erase line) even with --no-color.
const ANSI_ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** running (and healthy when it has a healthcheck) or a one-shot that exited 0 is ok; unhealthy or a crash is final. */
export function verdictOf(container: ServiceState): Verdict {
  if (container.state === 'running') {
    if (container.health === 'unhealthy') return 'failed';
    return container.health === 'starting' ? 'pending' : 'ok';
  }
  if (container.state === 'exited') return container.exitCode === 0 ? 'ok' : 'failed';
  if (container.state === 'dead' || container.state === 'removing') return 'failed';
  return 'pending'; // created, restarting, paused
}

export async function stackStates(session: SshSession, plan: DeployPlan): Promise<ServiceState[]> {
  const result = await session.run(composePs(stackRef(plan)), { root: true });
  return parseComposePs(result.stdout);
}

export interface VerifyOutcome {
  containers: ContainerState[];
  /** Services not ok (failed, or still pending when time ran out), with their last log lines. */
  failing?: { services: string[]; logs: string };
}

/**
 * Between two looks at a stack that is still starting: a healthcheck turns healthy at any moment, and
 * a look is one `compose ps` over an open SSH connection (a tenth of a second), so look often.
 */
const POLL_INTERVAL_MS = 500;

/** Polls `compose ps` until every service is ok, one has failed for good, or the time is up. */
export async function waitForStack(
  session: SshSession,
  plan: DeployPlan,
  options: { timeoutMs: number; logTail: number; secretValues: string[]; onPoll: () => void },
): Promise<VerifyOutcome> {
  const expected = Object.keys((plan.stack.compose.services ?? {}) as Record<string, unknown>);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.onPoll();
    const states = await stackStates(session, plan);
    const verdicts = new Map(expected.map((s) => [s, 'pending' as Verdict]));
    for (const c of states) {
      const previous = verdicts.get(c.service);
      const v = verdictOf(c);
      if (previous === undefined || previous === 'pending' || v === 'failed') verdicts.set(c.service, v);
    }
    const containers = states.map(({ exitCode: _exitCode, ...rest }) => rest);
    const failed = [...verdicts].filter(([, v]) => v === 'failed').map(([s]) => s);
    const pending = [...verdicts].filter(([, v]) => v === 'pending').map(([s]) => s);
    if (failed.length === 0 && pending.length === 0) return { containers };
    if (failed.length > 0 || Date.now() > deadline) {
      const services = failed.length > 0 ? failed : pending;
      const logs = await session.exec(composeLogs(stackRef(plan), options.logTail, services), {
        root: true,
      });
      const text = (logs.stdout + logs.stderr).replace(ANSI_ESCAPES, '').trim();
      return { containers, failing: { services, logs: redact(text, options.secretValues) } };
    }
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}

export function describeFailure(containers: ContainerState[], services: string[]): string {
  return services
    .map((s) => {
      const c = containers.find((x) => x.service === s);
      return c ? `${s} (${c.state}${c.health ? `, ${c.health}` : ''})` : `${s} (no container)`;
    })
    .join(', ');
}
