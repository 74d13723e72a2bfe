import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { openWorkflows } from '../client/deploy';
import { openTemporal, type TemporalSession } from '../client/connect';
import { sourceTaskQueue } from '../client/queues';
import { temporalSettings } from '../client/settings';
import { KamalDevError } from '../errors';
import { createWorker, type KamalDevWorker } from '../worker';
import type { Activities } from '../activities/types';
import type { CliDeps } from './deps';
import { printerOf, type Printer } from './output';

export interface CommandContext {
  projectDir: string;
  session: TemporalSession;
  sourceQueue: string;
  print: Printer;
  log: (line: string) => void;
  /** A worker on the shared and this project's source queue, with this machine's activities. */
  worker(): Promise<KamalDevWorker>;
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
}

/**
 * Installed only right before the first worker: once installed, the runtime keeps the process alive
 * until its last native connection or worker closes, so a command that fails before it has one
 * (bad config, no server) would never exit.
 */
function installRuntime(shutdownSignals: NodeJS.Signals[], options: { logFile?: string; verbose?: boolean } = {}): void {
  const { logFile, verbose } = options;
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

/** Where a command's in-process worker logs: .kamal/kamal-dev.log of the project. */
function workerLogFile(command: Command): string {
  return join(resolve(command.optsWithGlobals<{ cwd?: string }>().cwd ?? process.cwd()), '.kamal', 'kamal-dev.log');
}

const exitCodes = new WeakMap<Command, number>();

/** For outcomes that are not errors but still fail (a partial deploy): main() returns it. */
export function setExitCode(command: Command, code: number): void {
  let root = command;
  while (root.parent) root = root.parent;
  exitCodes.set(root, code);
}

export function exitCodeOf(program: Command): number {
  return exitCodes.get(program) ?? 0;
}

export async function withTemporal<T>(deps: CliDeps, command: Command, fn: (ctx: CommandContext) => Promise<T>, runtime: RuntimeOptions = {}): Promise<T> {
  const globals = command.optsWithGlobals<{ cwd?: string; json?: boolean; verbose?: boolean }>();
  const projectDir = resolve(globals.cwd ?? process.cwd());
  const print = printerOf(command, deps);
  const log = print.note;
  const settings = temporalSettings(await deps.temporalConfig?.(projectDir), deps.env ?? process.env);
  const session = await openTemporal(settings, projectDir, log);
  const sourceQueue = sourceTaskQueue(projectDir);
  // Activities hold SSH connections; they must be closed or the command never exits.
  let activities: (Activities & { close?(): Promise<void> }) | undefined;
  let created: KamalDevWorker | undefined;
  try {
    const open = await openWorkflows(session.client, settings.sharedQueue).catch(() => []);
    if (open.length) log(`resuming ${open.length} open workflow(s) while this command runs: ${open.map((w) => w.workflowId).join(', ')}`);
    const worker = async () => {
      if (!deps.activities) {
        throw new KamalDevError('internal', 'this build of kamal-dev has no activities to run', {
          description: 'The CLI must be started with an activities factory (src/cli/deps.ts).',
        });
      }
      installRuntime(runtime.shutdownSignals ?? ['SIGINT', 'SIGTERM'], runtime.logToFile === false ? {} : { logFile: workerLogFile(command), verbose: globals.verbose });
      return (created = await createWorker({
        connection: await session.nativeConnection(),
        namespace: settings.namespace,
        taskQueues: { shared: settings.sharedQueue, source: sourceQueue },
        activities: (activities = await deps.activities({ projectDir })),
      }));
    };
    return await fn({ projectDir, session, sourceQueue, print, log, worker });
  } finally {
    await created?.release();
    await activities?.close?.();
    await session.close();
  }
}
