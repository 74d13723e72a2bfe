import type { Client } from '@temporalio/client';
import { temporalSettings } from '../client/settings';
import { recordUnrecordedDeploys, withRunningServer } from '../client/unrecordedDeploys';
import type { CliDeps } from './deps';

/**
 * Before a command reads .kamal/ (dev_state.yml, known_hosts): the deploys of this project that
 * completed on workers elsewhere since this machine last looked are recorded there. A server that
 * does not answer is said, and the command goes on with what this machine has recorded.
 */
export async function recordDeploysDoneElsewhere(
  deps: CliDeps,
  log: (line: string) => void,
  project: { projectDir: string; identity: string },
  client?: Client,
): Promise<void> {
  const record = (c: Client) => recordUnrecordedDeploys(c, project.projectDir, project.identity);
  try {
    const recorded = client ? await record(client) : await withRunningServer(temporalSettings(await deps.temporalConfig?.(project.projectDir), deps.env ?? process.env), record);
    for (const workflowId of recorded ?? []) log(`recorded ${workflowId} (it completed without this machine following it) in .kamal/`);
  } catch (error) {
    log(`kamal-dev: could not look for deploys that completed elsewhere (${(error as Error).message}); going on with what .kamal/ records`);
  }
}
