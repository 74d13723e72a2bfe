import { resolve } from 'node:path';
import type { Command } from 'commander';
import { openWorkflows } from '../client/deploy';
import { openTemporal, type TemporalSession } from '../client/connect';
import { answers } from '../client/embedded';
import { sourceTaskQueue } from '../client/queues';
import { EMBEDDED_ADDRESS, temporalSettings } from '../client/settings';
import { KamalDevError } from '../errors';
import type { KamalDevWorker } from '../worker';
import type { Activities } from '../activities/types';
import type { CliDeps } from './deps';
import { printerOf, type Printer } from './output';
import { installRuntime, workerLogFile } from './runtime';
import { StartupTimings } from './timings';

export interface CommandContext {
  projectDir: string;
  session: TemporalSession;
  sourceQueue: string;
  print: Printer;
  log: (line: string) => void;
  /**
   * A worker on the shared and this project's source queue, with this machine's activities; with
   * `sourceOnly` on the source queue alone (`deploy --detach` while other workers serve the shared one).
   */
  worker(options?: { sourceOnly?: boolean }): Promise<KamalDevWorker>;
  /** Marks of this command's own time, said with --verbose (see timings.line()). */
  timings: StartupTimings;
}

export interface RuntimeOptions {
  /**
   * The Temporal runtime's own handling of these signals shuts workers down gracefully (default
   * SIGINT and SIGTERM); `deploy` passes none and handles Ctrl-C itself (it asks whether to cancel).
   */
  shutdownSignals?: NodeJS.Signals[];
  /**
   * Default true: the command's in-process worker logs to .kamal/kamal-dev.log (activity retries come
   * with stack traces that would drown the progress), and with --verbose to stderr as well.
   * `kamal-dev worker` logs warnings to stderr instead.
   */
  logToFile?: boolean;
  /** Default true. False for a command that only asks the server (no Temporal runtime, no worker modules loaded). */
  worker?: boolean;
  /** `kamal-dev worker --secrets FILE`: the worker's own secrets (src/activities/workerSecrets.ts). */
  secretsFile?: string;
  /**
   * What the command checks before anything runs (deploy's plan): the connection, and with
   * `prepareWorker` the worker, are made meanwhile, and are closed unused when it fails. The
   * embedded server is started only once it has passed, so bad input leaves nothing behind, and a
   * server that does not answer is not connected to before it (the connection would wait out its timeout).
   */
  checked?: Promise<unknown>;
  /** Makes the worker (shared and source queue) while `checked` runs; it polls only when the command runs it. */
  prepareWorker?: boolean;
}

export async function withTemporal<T>(
  deps: CliDeps,
  command: Command,
  fn: (ctx: CommandContext) => Promise<T>,
  runtime: RuntimeOptions = {},
  timings = new StartupTimings(),
): Promise<T> {
  const globals = command.optsWithGlobals<{ cwd?: string; json?: boolean; verbose?: boolean }>();
  const projectDir = resolve(globals.cwd ?? process.cwd());
  const print = printerOf(command, deps);
  const log = print.note;
  const sourceQueue = sourceTaskQueue(projectDir);
  // Activities hold SSH connections; they must be closed or the command never exits.
  let activities: (Activities & { close?(): Promise<void> }) | undefined;
  const made: KamalDevWorker[] = [];
  const makeWorker = async (session: TemporalSession, options: { sourceOnly?: boolean } = {}) => {
    if (!deps.activities || runtime.worker === false) {
      throw new KamalDevError('internal', 'this build of kamal-dev has no activities to run', {
        description: 'The CLI must be started with an activities factory (src/cli/deps.ts).',
      });
    }
    const { createWorker } = await import('../worker');
    activities ??= await deps.activities({ projectDir, ...(runtime.secretsFile ? { secretsFile: runtime.secretsFile } : {}) });
    const worker = await createWorker({
      connection: await session.nativeConnection(),
      namespace: session.settings.namespace,
      taskQueues: options.sourceOnly ? { shared: sourceQueue } : { shared: session.settings.sharedQueue, source: sourceQueue },
      activities,
    });
    made.push(worker);
    return worker;
  };
  const opening = (async () => {
    const settings = temporalSettings(await deps.temporalConfig?.(projectDir), deps.env ?? process.env);
    // Early only to a server that answers: a connection to one that does not would hold a bad input's exit for its timeout.
    if (runtime.checked && !(await serverAnswers(settings.address ?? EMBEDDED_ADDRESS))) await runtime.checked;
    const worker = !!deps.activities && runtime.worker !== false;
    // Before the native connection, which would otherwise install a runtime with the default signal handling.
    if (worker) await installRuntime(runtime.shutdownSignals ?? ['SIGINT', 'SIGTERM'], runtime.logToFile === false ? {} : { logFile: workerLogFile(command), verbose: globals.verbose });
    const session = await openTemporal(settings, projectDir, log, { worker });
    return { session, prepared: runtime.prepareWorker ? makeWorker(session) : undefined };
  })();
  // Failures of what was made early are said once the check has passed (the check's own error comes first).
  opening.then((o) => o.prepared?.catch(() => undefined), () => undefined);
  let session: TemporalSession | undefined;
  let looking: Promise<void> | undefined;
  try {
    if (runtime.checked) {
      await runtime.checked;
      timings.mark('plan');
    }
    const opened = await opening;
    session = opened.session;
    timings.mark('connect');
    // Said when known; nothing waits for it (a visibility query can take a while).
    looking = openWorkflows(session.client, session.settings.sharedQueue).then(
      (open) => void (open.length && log(`resuming ${open.length} open workflow(s) while this command runs: ${open.map((w) => w.workflowId).join(', ')}`)),
      () => undefined,
    );
    const ready = session;
    let prepared = opened.prepared;
    const worker = async (options: { sourceOnly?: boolean } = {}) => {
      const early = prepared;
      prepared = undefined;
      if (early && !options.sourceOnly) return early;
      if (early) await (await early).release();
      return makeWorker(ready, options);
    };
    return await fn({ projectDir, session, sourceQueue, print, log, worker, timings });
  } finally {
    // A check that failed first: whatever was made meanwhile is closed without having run.
    const opened = session ? undefined : await opening.catch(() => undefined);
    await opened?.prepared?.catch(() => undefined);
    await looking;
    for (const worker of made) await worker.release();
    await activities?.close?.();
    await (session ?? opened?.session)?.close();
  }
}

/** `host:port` (or `[v6]:port`) accepts a TCP connection within a second. */
function serverAnswers(address: string): Promise<boolean> {
  const colon = address.lastIndexOf(':');
  return answers(address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(colon + 1)));
}
