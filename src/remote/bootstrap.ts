import { installScript, parseProbe, PROBE_SCRIPT, ProbeResult, shScript, START_ENGINE_SCRIPT, WAIT_FOR_BOOT_SCRIPT } from '../docker/bootstrap';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { startStackOn } from './stackControl';

async function probe(session: SshSession): Promise<ProbeResult> {
  return parseProbe((await session.run(shScript(PROBE_SCRIPT), { root: true })).stdout);
}

/** Wait for the boot's install, if any; probe; install only what is missing; start the engine when it is not running. */
export async function bootstrapOn(
  session: SshSession,
  onProgress: () => void,
): Promise<{ installed: boolean; docker: string; compose: string }> {
  await session.run(shScript(WAIT_FOR_BOOT_SCRIPT), { root: true });
  const before = await probe(session);
  const script = installScript(before);
  if (script) await session.run(shScript(script), { root: true, onLine: onProgress });
  if (script || !before.engine) await session.run(shScript(START_ENGINE_SCRIPT), { root: true, onLine: onProgress });
  const after = script || !before.engine ? await probe(session) : before;
  return { installed: script !== '', docker: after.engine || after.docker, compose: after.compose };
}

/** After a VM restart: its engine (when bootstrap installed one) and its stack come back. */
export async function startEngineIfInstalled(session: SshSession, plan: DeployPlan): Promise<void> {
  const state = await probe(session);
  if (!state.docker) return;
  if (!state.engine) await session.run(shScript(START_ENGINE_SCRIPT), { root: true });
  await startStackOn(session, plan);
}
