import { composeDown, composeStart, composeStop } from '../docker/compose';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { stackRef } from './stackDir';

// Stack operations on a VM through one SSH session; a stack that is not there is a no-op.

/** A stack is there once a compose file was swapped into its folder. */
export async function hasStack(session: SshSession, dir: string): Promise<boolean> {
  return (await session.exec(['test', '-f', `${dir}/compose.yaml`], { root: true })).exitCode === 0;
}

/** `compose down -v`, then the stack folder. The machine itself is left alone. */
export async function removeStackOn(session: SshSession, plan: DeployPlan): Promise<void> {
  const stack = stackRef(plan);
  if (await hasStack(session, stack.dir)) await session.run(composeDown(stack), { root: true });
  await session.run(['rm', '-rf', '--', stack.dir], { root: true });
}

export async function stopStackOn(session: SshSession, plan: DeployPlan): Promise<void> {
  const stack = stackRef(plan);
  if (await hasStack(session, stack.dir)) await session.run(composeStop(stack), { root: true });
}

export async function startStackOn(session: SshSession, plan: DeployPlan): Promise<void> {
  const stack = stackRef(plan);
  if (await hasStack(session, stack.dir)) await session.run(composeStart(stack), { root: true });
}
