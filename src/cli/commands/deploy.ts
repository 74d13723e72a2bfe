import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Command, InvalidArgumentError } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startDeploy, webUiLink } from '../../client/deploy';
import type { FailureDetails } from '../../activities/failures';
import { KamalDevError, type ErrorKind } from '../../errors';
import { planOf, type CliDeps } from '../deps';
import { followDeploy, type FollowResult } from '../follow';
import { ProgressPrinter } from '../progress';
import { setExitCode, withTemporal, type CommandContext } from '../session';
import { summaryTable } from '../summaryTable';
import { remoteStackDir } from '../../spec/compose-mounts';
import type { DeployPlan } from '../../spec/plan';
import { workspaceSelection } from '../../spec/workspace-files';

interface DeployOptions {
  count?: number;
  tag?: string;
  skipBuild?: boolean;
  skipPush?: boolean;
  /** `--no-cache` sets this to false. */
  cache?: boolean;
  attach?: string;
  json?: boolean;
  syncWorkspace?: boolean;
}

export function register(program: Command, deps: CliDeps): void {
  program
    .command('deploy')
    .description('build, push and bring up N workspaces (one VM each), following the deploy live')
    .option('-n, --count <n>', 'number of workspaces (default: vms.count in config/dev.yml, else 1)', positiveInt)
    .option('--tag <tag>', 'image tag (default: git sha, or the last one built with --skip-build)')
    .option('--skip-build', 'use images that are already built')
    .option('--skip-push', 'copy images to the VMs instead of pushing them to a registry')
    .option('--no-cache', 'build without the build cache')
    .option('--sync-workspace', "copy this folder's files over the workspace copy on VMs that have one (by default only a first deploy seeds it)")
    .option('--attach <workflowId>', 'follow a deploy that is already running instead of starting one')
    .action(async (options: DeployOptions, command: Command) => {
      const { json, cwd } = command.optsWithGlobals<{ json?: boolean; cwd?: string }>();
      // Bad config, devcontainer or compose files stop here, before any server, worker or workflow.
      const plan = options.attach ? undefined : await planOf(deps)({ projectDir: resolve(cwd ?? process.cwd()), count: options.count });
      const count = plan ? plan.vms.length : options.count;
      if (plan && options.syncWorkspace) (deps.stderr ?? process.stderr).write(`${await syncWarning(plan)}\n`);
      const code = await withTemporal(deps, command, (ctx) => deploy(ctx, deps, { ...options, count, json }), { shutdownSignals: [] });
      setExitCode(command, code);
    });
}

async function deploy(ctx: CommandContext, deps: CliDeps, options: DeployOptions): Promise<number> {
  const { session, projectDir, out, log } = ctx;
  const worker = await ctx.worker();
  const workflowId =
    options.attach ??
    (
      await startDeploy(
        session.client,
        {
          projectDir,
          count: options.count,
          tag: options.tag,
          skipBuild: !!options.skipBuild,
          skipPush: !!options.skipPush,
          noCache: options.cache === false ? true : undefined,
          ...(options.syncWorkspace ? { syncWorkspace: true } : {}),
        },
        { sharedQueue: session.settings.sharedQueue, sourceQueue: ctx.sourceQueue, profiles: session.settings.profiles },
      )
    ).workflowId;
  log(`${options.attach ? 'following' : 'started'} ${workflowId}: ${webUiLink(workflowId, session.settings.namespace, session.settings.uiUrl)}`);

  const detach = new AbortController();
  const printer = new ProgressPrinter(options.json ? nullStream : (deps.stderr ?? process.stderr));
  const stopAsking = onInterrupt(deps, printer, log, async () => {
    await session.client.workflow.getHandle(workflowId).cancel();
    log('cancelling: every VM created so far is being destroyed');
  }, () => detach.abort());
  let result: FollowResult;
  try {
    result = await worker.runUntil(followDeploy(session.client, workflowId, printer, { intervalMs: deps.pollIntervalMs ?? 1000, detach: detach.signal }));
  } finally {
    stopAsking();
  }

  if ('detached' in result) {
    log(`detached; ${workflowId} goes on when a worker runs: kamal-dev deploy --attach ${workflowId} (or kamal-dev worker)`);
    return 130;
  }
  if ('error' in result) throw deployError(result.error, workflowId);
  if (options.json) out.write(JSON.stringify(result.summary, null, 2) + '\n');
  else out.write(summaryTable(result.summary) + '\n');
  return result.summary.outcome === 'deployed' ? 0 : 1;
}

/** Ctrl-C asks whether to cancel on a terminal; elsewhere it detaches. Returns the uninstaller. */
function onInterrupt(deps: CliDeps, printer: ProgressPrinter, log: (line: string) => void, cancel: () => Promise<void>, detach: () => void): () => void {
  const stdin = deps.stdin ?? process.stdin;
  let asking = false;
  const handler = () => {
    if (!stdin.isTTY || asking) return detach();
    asking = true;
    printer.pause();
    const rl = createInterface({ input: stdin, output: deps.stderr ?? process.stderr });
    // Ctrl-C again while the question is open: leave without cancelling.
    rl.on('SIGINT', () => {
      rl.close();
      detach();
    });
    rl.question('\nCancel this deploy (VMs created so far are destroyed)? [y/N] ', (answer) => {
      rl.close();
      asking = false;
      printer.resume();
      if (/^y(es)?$/i.test(answer.trim())) cancel().catch((error) => log(`cancel failed: ${(error as Error).message}`));
      else detach();
    });
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

function deployError(error: unknown, workflowId: string): KamalDevError {
  let cause: unknown = error instanceof WorkflowFailedError ? error.cause : error;
  while (cause instanceof Error && cause.cause && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  const type = cause instanceof ApplicationFailure ? cause.type ?? '' : '';
  const detail = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  const info: FailureDetails = typeof detail === 'string' ? { description: detail } : ((detail as FailureDetails | undefined) ?? {});
  const kind = (info.kind ?? (type.startsWith('KamalDevError.') ? type.slice('KamalDevError.'.length) : 'internal')) as ErrorKind;
  const description = info.description;
  const message = cause instanceof Error ? cause.message : String(cause);
  const cancelled = error instanceof WorkflowFailedError && error.cause?.name === 'CancelledFailure';
  // The failure's message already starts with its file and key.
  return new KamalDevError(cancelled ? 'state' : kind, cancelled ? `deploy ${workflowId} was cancelled; the VMs it created were destroyed` : `deploy ${workflowId} failed: ${message}`, {
    description,
    cause: error,
  });
}

/** What --sync-workspace is about to overwrite, said before anything starts. */
async function syncWarning(plan: DeployPlan): Promise<string> {
  const workspace = plan.stack.workspace;
  if (!workspace) return '--sync-workspace: this stack mounts no workspace; there is nothing to copy';
  const { paths, bytes } = await workspaceSelection(workspace.source, workspace);
  const where = `${remoteStackDir(plan.stack.projectName)}/${workspace.target}`;
  return (
    `--sync-workspace: on ${plan.vms.map((v) => v.name).join(', ')}, ${where} gets the ${paths.length} file(s) (${(bytes / 1e6).toFixed(1)} MB) of ${workspace.source}, ` +
    'overwriting the copy of each that is there (edits made on the VM to those files are lost); files that exist only on the VM are kept'
  );
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of 1 or more');
  return n;
}

const nullStream = { write: () => true } as unknown as NodeJS.WritableStream;
