import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { openWorkflows } from '../client/deploy';
import { openTemporal, type TemporalSession } from '../client/connect';
import { sourceTaskQueue } from '../client/queues';
import { temporalSettings } from '../client/settings';
import { KamalDevError } from '../errors';
import type { KamalDevWorker } from '../worker';
import type { Activities } from '../activities/types';
import type { CliDeps } from './deps';
import { printerOf, type Printer } from './output';
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
}

/**
 * Installed only right before the first worker: once installed, the runtime keeps the process alive
 * until its last native connection or worker closes.
 */
async function installRuntime(shutdownSignals: NodeJS.Signals[], options: { logFile?: string; verbose?: boolean } = {}): Promise<void> {
  const { logFile, verbose } = options;
  // Loaded here, not at the top: commands without a worker never pay for the worker's modules.
  const { DefaultLogger, makeTelemetryFilterString, Runtime } = await import('@temporalio/worker');
  if (logFile) mkdirSync(dirname(logFile), { recursive: true });
  const logger = logFile
    ? new DefaultLogger(verbose ? 'DEBUG' : 'INFO', (entry) => {
        const line = `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} ${entry.level} ${entry.message} ${entry.meta ? JSON.stringify(entry.meta) : ''}\n`;
        appendFileSync(logFile, line);
        if (verbose && entry.level !== 'DEBUG' && entry.level !== 'TRACE') process.stderr.write(line);
      })
    : new DefaultLogger('WARN');
  try {
    // Core (Rust) logs would go straight to stdout and corrupt --json output: forward them to the logger.
    Runtime.install({ logger, shutdownSignals, telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) } } });
  } catch {
    // installed already (in-process tests, or a second command in one process)
  }
}

/**
 * Loads what the in-process worker needs, one module per turn of the event loop, so the loading
 * fills the plan check's waits on git and `docker compose config` instead of following them.
 */
export async function warmWorkerModules(): Promise<void> {
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  await turn();
  await import('@temporalio/worker');
  await turn();
  await import('../worker');
  await turn();
  await import('../activities');
}

/** Where a command's in-process worker logs: .kamal/kamal-dev.log of the project. */
function workerLogFile(command: Command): string {
  return join(resolve(command.optsWithGlobals<{ cwd?: string }>().cwd ?? process.cwd()), '.kamal', 'kamal-dev.log');
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
  const settings = temporalSettings(await deps.temporalConfig?.(projectDir), deps.env ?? process.env);
  const session = await openTemporal(settings, projectDir, log);
  timings.mark('connect');
  const sourceQueue = sourceTaskQueue(projectDir);
  // Activities hold SSH connections; they must be closed or the command never exits.
  let activities: (Activities & { close?(): Promise<void> }) | undefined;
  let looking: Promise<void> | undefined;
  let created: KamalDevWorker | undefined;
  try {
    // Said when known; nothing waits for it (a visibility query can take a while).
    looking = openWorkflows(session.client, settings.sharedQueue).then(
      (open) => void (open.length && log(`resuming ${open.length} open workflow(s) while this command runs: ${open.map((w) => w.workflowId).join(', ')}`)),
      () => undefined,
    );
    const worker = async (options: { sourceOnly?: boolean } = {}) => {
      if (!deps.activities || runtime.worker === false) {
        throw new KamalDevError('internal', 'this build of kamal-dev has no activities to run', {
          description: 'The CLI must be started with an activities factory (src/cli/deps.ts).',
        });
      }
      await installRuntime(runtime.shutdownSignals ?? ['SIGINT', 'SIGTERM'], runtime.logToFile === false ? {} : { logFile: workerLogFile(command), verbose: globals.verbose });
      const { createWorker } = await import('../worker');
      return (created = await createWorker({
        connection: await session.nativeConnection(),
        namespace: settings.namespace,
        taskQueues: options.sourceOnly ? { shared: sourceQueue } : { shared: settings.sharedQueue, source: sourceQueue },
        activities: (activities = await deps.activities({ projectDir, ...(runtime.secretsFile ? { secretsFile: runtime.secretsFile } : {}) })),
      }));
    };
    return await fn({ projectDir, session, sourceQueue, print, log, worker, timings });
  } finally {
    await looking;
    await created?.release();
    await activities?.close?.();
    await session.close();
  }
}
