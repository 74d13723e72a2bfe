import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';

/**
 * Installed only right before the first worker: once installed, the runtime keeps the process alive
 * until its last native connection or worker closes.
 */
export async function installRuntime(shutdownSignals: NodeJS.Signals[], options: { logFile?: string; verbose?: boolean } = {}): Promise<void> {
  const { logFile, verbose } = options;
  // Loaded here, not at the top: commands without a worker never pay for the worker's modules.
  const { DefaultLogger, makeTelemetryFilterString, Runtime } = await import('@temporalio/worker');
  if (logFile) mkdirSync(dirname(logFile), { recursive: true });
  const logger = logFile
    ? new DefaultLogger(verbose ? 'DEBUG' : 'INFO', (entry) => {
        const head = `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} ${entry.level} ${entry.message}`;
        const line = (meta?: Record<string, unknown>) => `${head}${meta && Object.keys(meta).length ? ` ${JSON.stringify(meta)}` : ''}\n`;
        appendFileSync(logFile, line(entry.meta));
        if (verbose && entry.level !== 'DEBUG' && entry.level !== 'TRACE') process.stderr.write(line(terminalMeta(entry.meta)));
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
 * The SDK's context of a worker log line (task token, run id, namespace...) would fill a screen line
 * of its own: the terminal gets what names the step, the log file keeps it all.
 */
const FILE_ONLY_META = new Set(['taskToken', 'namespace', 'sdkComponent', 'isLocal', 'workflowRunId', 'runId', 'activityId']);

export function terminalMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return meta && Object.fromEntries(Object.entries(meta).filter(([key]) => !FILE_ONLY_META.has(key)));
}

/** Where a command's in-process worker logs: .kamal/kamal-dev.log of the project. */
export function workerLogFile(command: Command): string {
  return join(resolve(command.optsWithGlobals<{ cwd?: string }>().cwd ?? process.cwd()), '.kamal', 'kamal-dev.log');
}
