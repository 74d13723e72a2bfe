import { Client, Connection, type ConnectionLike } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { KamalDevError } from '../errors';
import { answers, startEmbeddedServer } from './embedded';
import { ensureSearchAttributes } from './searchAttributes';
import { connectOptions, EMBEDDED_ADDRESS, type TemporalSettings } from './settings';

export interface TemporalSession {
  client: Client;
  connection: ConnectionLike;
  settings: TemporalSettings;
  address: string;
  /** True when this command started the embedded dev server. */
  startedServer: boolean;
  /** A worker-side connection to the same server. */
  nativeConnection(): Promise<NativeConnection>;
  close(): Promise<void>;
}

/**
 * Connects to the configured server, or to 127.0.0.1:7233, starting the embedded dev server there
 * (SQLite under <project>/.kamal/temporal) when nothing answers; registers the search attributes.
 * With `worker`, one native connection serves the client and the command's worker alike.
 */
export async function openTemporal(
  settings: TemporalSettings,
  projectDir: string,
  log: (line: string) => void = () => undefined,
  options: { worker?: boolean } = {},
): Promise<TemporalSession> {
  let startedServer = false;
  if (!settings.address && !(await answers('127.0.0.1', 7233))) {
    log(`starting the embedded Temporal server (data in ${projectDir}/.kamal/temporal)`);
    await startEmbeddedServer({ projectDir });
    startedServer = true;
  }
  const connect = connectOptions(settings);
  // Loaded on use: commands without a worker never pay for the worker's modules.
  const opening = options.worker ? (await import('@temporalio/worker')).NativeConnection.connect(connect) : Connection.connect({ ...connect, connectTimeout: '10s' });
  const connection: ConnectionLike = await opening.catch((error: Error) => {
    throw new KamalDevError('temporal', `cannot reach the Temporal server at ${connect.address}`, {
      description: settings.address
        ? 'Check temporal.address (or TEMPORAL_ADDRESS), TLS and the API key.'
        : `Something answers on ${EMBEDDED_ADDRESS} but is not a Temporal server; stop it or set temporal.address.`,
      cause: error,
    });
  });
  try {
    await ensureSearchAttributes(connection, settings.namespace);
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
  const natives: NativeConnection[] = [];
  return {
    client: new Client({ connection, namespace: settings.namespace }),
    connection,
    settings,
    address: connect.address,
    startedServer,
    async nativeConnection() {
      if (options.worker) return connection as NativeConnection;
      const native = await (await import('@temporalio/worker')).NativeConnection.connect(connect);
      natives.push(native);
      return native;
    },
    async close() {
      for (const native of natives) await native.close().catch(() => undefined);
      await connection.close();
    },
  };
}
