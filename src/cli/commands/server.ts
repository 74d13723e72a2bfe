import type { Command } from 'commander';
import { embeddedServerStatus, stopEmbeddedServer } from '../../client/embedded';
import { contextOf } from '../context';
import type { CliDeps } from '../deps';
import { printerOf } from '../output';

/** `server status` and `server stop`. */
export async function action(deps: CliDeps, which: 'status' | 'stop', _options: unknown, command: Command): Promise<void> {
  const projectDir = contextOf(command).projectDir;
  if (which === 'stop') {
    const stopped = await stopEmbeddedServer(projectDir);
    printerOf(command, deps).result({ outcome: 'ok', stopped }, () => (stopped ? 'stopped' : 'not running'));
    return;
  }
  const status = await embeddedServerStatus(projectDir);
  printerOf(command, deps).result({ outcome: 'ok', ...status }, () =>
    status.running
      ? `running (pid ${status.pid}) on ${status.address}, Web UI ${status.ui}, data ${status.dbFile}`
      : `not running (data ${status.dbFile}; it starts with the next command that needs it)`,
  );
}
