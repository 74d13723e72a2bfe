import { KamalDevError, RetryClass } from '../errors';
import { isNotFound, Sleep, UpcloudApi, UpcloudApiError } from './upcloud-api';
import { ServerDetails, ServerState, ServerSummary } from './upcloud-shapes';

export interface StateTimings {
  pollIntervalMs: number;
  stopTimeoutMs: number;
}

/** Moves one server between UpCloud's states by asking and then polling, as the API works. */
export class ServerStates {
  constructor(
    private readonly api: UpcloudApi,
    private readonly sleep: Sleep,
    private readonly timings: StateTimings,
  ) {}

  /** null when the server does not exist. */
  details(uuid: string, signal?: AbortSignal): Promise<ServerDetails | null> {
    return this.api.request<{ server: ServerDetails }>('GET', `/server/${uuid}`, undefined, signal).then(
      (body) => body.server,
      (error) => {
        if (isNotFound(error)) return null;
        throw error;
      },
    );
  }

  async start(server: ServerSummary, timeoutMs: number, signal?: AbortSignal): Promise<ServerDetails> {
    if (server.state === 'stopped') await ignoringStateConflict(this.api.request('POST', `/server/${server.uuid}/start`, { server: {} }, signal));
    return this.waitFor(server, 'started', timeoutMs, signal);
  }

  async waitFor(server: ServerSummary, state: ServerState, timeoutMs: number, signal?: AbortSignal): Promise<ServerDetails> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.details(server.uuid, signal);
      if (!now) throw new KamalDevError('provider', `UpCloud server ${server.title} (${server.uuid}) disappeared while waiting for it to be ${state}`);
      if (now.state === state) return now;
      if (now.state === 'error') throw new KamalDevError('provider', `UpCloud server ${server.title} (${server.uuid}) is in state error`);
      const left = deadline - Date.now();
      if (left <= 0) throw timeout(server, state, now.state, timeoutMs);
      await this.sleep(Math.min(this.timings.pollIntervalMs, left), signal);
    }
  }

  /**
   * Resolves false when the server is gone. A stop refused during `maintenance` is asked for again;
   * one that does not finish in time is a transient failure (the activity tries again).
   */
  async stop(server: ServerSummary, stopType: 'soft' | 'hard', signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + this.timings.stopTimeoutMs;
    // A soft stop becomes a hard one after 60 s on UpCloud's side.
    const body = { stop_server: { stop_type: stopType, ...(stopType === 'soft' ? { timeout: '60' } : {}) } };
    for (let accepted = false; ; await this.sleep(this.timings.pollIntervalMs, signal)) {
      const now = await this.details(server.uuid, signal);
      if (!now) return false;
      if (now.state === 'stopped') return true;
      if (Date.now() > deadline) throw timeout(server, 'stopped', now.state, this.timings.stopTimeoutMs, 'transient');
      accepted ||= await ignoringStateConflict(this.api.request('POST', `/server/${server.uuid}/stop`, body, signal));
    }
  }

  /** Stops it (hard) unless stopped, then deletes it with its disks and their backups. */
  async remove(server: ServerSummary, signal?: AbortSignal): Promise<void> {
    if (!(await this.stop(server, 'hard', signal))) return;
    await this.api.request('DELETE', `/server/${server.uuid}?storages=1&backups=delete`, undefined, signal).catch((error) => {
      if (!isNotFound(error)) throw error;
    });
  }
}

function timeout(server: ServerSummary, wanted: ServerState, last: ServerState, timeoutMs: number, retry: RetryClass = 'final'): KamalDevError {
  return new KamalDevError('provider', `UpCloud server ${server.title} (${server.uuid}) was not ${wanted} after ${Math.round(timeoutMs / 1000)} s (last state: ${last})`, { retry });
}

/** UpCloud answers 409 SERVER_STATE_ILLEGAL to a start or stop the server is not ready for; the poll decides. */
function ignoringStateConflict(call: Promise<unknown>): Promise<boolean> {
  return call.then(
    () => true,
    (error) => {
      if (error instanceof UpcloudApiError && error.status === 409) return false;
      throw error;
    },
  );
}
