import { recordDeployOnSource } from '../../client/sourceRecords';
import { markRecorded } from '../../client/unrecordedDeploys';
import { projectIdentity } from '../../state/identity';
import { pinnedStepsNotice } from '../pinnedNotice';
import { recordDeploysDoneElsewhere } from '../records';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { childCleanup, describeCleanup, type CleanupReport } from '../../client/cleanup';
import { startDeploy, webUiLink } from '../../client/deploy';
import { refusalOf } from '../../client/lock';
import { describeNamed, latestRunningDeploy } from '../../client/deploys';
import type { DeployPlan } from '../../spec/plan';
import { contextOf } from '../context';
import { printerOf, specWarningLines, type JsonDocument, type Printer } from '../output';
import { KamalDevError, type ErrorKind, type FailureDetails } from '../../errors';
import { DEPLOY_FAILED_TYPE } from '../../workflows/names';
import type { DeployProgress, DeploySummary } from '../../workflows/types';
import { checkedPlanOf, type CliDeps } from '../deps';
import { detachNote, detachPointOf, otherWorkers, reached } from '../detach';
import { followDeploy, type FollowResult } from '../follow';
import { ProgressPrinter } from '../progress';
import { setExitCode } from '../exitCode';
import { withTemporal, type CommandContext } from '../session';
import { StartupTimings } from '../timings';
import { summaryTable } from '../summaryTable';
import { remoteStackDir } from '../../spec/compose-mounts';
import { workspaceSelection } from '../../spec/workspace-files';

interface DeployOptions {
  count?: number;
  tag?: string;
  from?: string;
  skipBuild?: boolean;
  skipPush?: boolean;
  /** `--no-cache` sets this to false. */
  cache?: boolean;
  /** `--attach` alone: the project's newest running deploy. */
  attach?: string | true;
  follow?: boolean;
  syncWorkspace?: boolean;
  detach?: boolean;
}

export async function action(deps: CliDeps, options: DeployOptions, command: Command): Promise<void> {
  const timings = new StartupTimings(command.optsWithGlobals<{ verbose?: boolean }>().verbose === true);
  timings.mark('modules');
  const projectDir = contextOf(command).projectDir;
  if (options.detach && options.attach) throw new KamalDevError('config', '--detach starts a deploy and returns early; --attach follows one that runs', { retry: 'bad-input' });
  // Bad config, devcontainer or compose files stop here, before any server is started or workflow runs;
  // the connection and the worker are made meanwhile (withTemporal's `checked`).
  const checking = typeof options.attach === 'string' ? Promise.resolve(undefined) : checkedPlanOf(deps)({ projectDir, count: options.count, from: options.from });
  const run = async (ctx: CommandContext) => {
    const checked = await checking;
    const print = printerOf(command, deps);
    for (const line of checked ? specWarningLines(checked) : []) print.note(line);
    const plan = checked?.plan;
    if (plan && options.syncWorkspace) print.note(await syncWarning(plan));
    return deploy(ctx, deps, options, plan);
  };
  const code = await withTemporal(deps, command, run, { shutdownSignals: [], checked: checking, prepareWorker: !options.detach }, timings);
  setExitCode(command, code);
}

async function deploy(ctx: CommandContext, deps: CliDeps, options: DeployOptions, plan: DeployPlan | undefined): Promise<number> {
  const { session, projectDir, print, log, timings } = ctx;
  const { namespace, sharedQueue } = session.settings;
  // What deploys that completed elsewhere reached is in .kamal/ before this one plans (known hosts) or starts.
  const recording = plan && !options.attach ? recordDeploysDoneElsewhere(deps, log, plan, session.client) : undefined;
  const point = options.detach && plan ? detachPointOf(plan, !!options.skipPush) : undefined;
  const others = point && point !== 'end' ? await otherWorkers(session.client, namespace, sharedQueue).catch(() => []) : [];
  if (point && plan) log(detachNote(point, plan, others, sharedQueue));
  // Detaching: the other workers run the VM steps, so none starts here only to be cut off at the detach.
  const detachAt = point && point !== 'end' && others.length > 0 ? point : undefined;
  const worker = await ctx.worker({ sourceOnly: !!detachAt });
  timings.mark('worker');
  const named = typeof options.attach === 'string' ? (await describeNamed(session.client, options.attach)).workflowId : undefined;
  const attached = named ?? (options.attach && plan ? await latestRunningDeploy(session.client, plan.identity) : undefined);
  await recording;
  const workflowId =
    attached ??
    (
      await startDeploy(
        session.client,
        {
          projectDir,
          count: plan?.vms.length,
          tag: options.tag,
          from: options.from,
          skipBuild: !!options.skipBuild,
          skipPush: !!options.skipPush,
          noCache: options.cache === false ? true : undefined,
          ...(options.syncWorkspace ? { syncWorkspace: true } : {}),
        },
        // Only --attach comes without a plan, and it starts nothing.
        { sharedQueue: session.settings.sharedQueue, sourceQueue: ctx.sourceQueue, profiles: session.settings.profiles, identity: plan!.identity },
      )
    ).workflowId;
  timings.mark('start');
  log(`${attached ? 'following' : 'started'} ${workflowId}: ${webUiLink(workflowId, session.settings.namespace, session.settings.uiUrl)}`);
  const pinned = pinnedStepsNotice(plan, session.settings.address !== undefined, ctx.sourceQueue);
  if (pinned) log(pinned);
  if (timings.shown) log(timings.line());

  const detach = new AbortController();
  const printer = new ProgressPrinter(print.json ? nullStream : print.stderr);
  const display = print.json && options.follow ? streamChanges(print) : (progress: DeployProgress) => printer.show(progress);
  let released = false;
  const show = (progress: DeployProgress) => {
    display(progress);
    if (!detachAt || released || !reached(detachAt, progress)) return;
    released = true;
    detach.abort();
  };
  const stopAsking = onInterrupt(deps, printer, log, async () => {
    await session.client.workflow.getHandle(workflowId).cancel();
    log('cancelling: every VM created so far is being destroyed');
  }, () => detach.abort());
  let result: FollowResult & { cleanup?: CleanupReport };
  try {
    // `--json` alone shows no progress and has no detach point to watch for: it only waits for the result.
    const watched = !print.json || options.follow || detachAt ? show : undefined;
    const following = followDeploy(session.client, workflowId, watched, { intervalMs: deps.pollIntervalMs ?? 1000, detach: detach.signal });
    // A cancelled or terminated deploy: the worker runs on until every child has compensated.
    result = await worker.runUntil(following.then(async (r) => ('error' in r && endedEarly(r.error) ? { ...r, cleanup: await childCleanup(session.client, workflowId) } : r)));
  } finally {
    stopAsking();
  }

  const finish = print.json && options.follow ? print.stream : (document: JsonDocument, text: () => string) => print.result(document, text);
  if ('detached' in result && released) {
    const webUi = webUiLink(workflowId, namespace, session.settings.uiUrl);
    const attach = `kamal-dev deploy --attach ${workflowId}`;
    finish({ outcome: 'detached', workflowId, webUi, attach }, () => `detached: ${workflowId} goes on without this machine; follow it with \`${attach}\` or at ${webUi}`);
    return 0;
  }
  if ('detached' in result) {
    const hint = `detached; ${workflowId} goes on when a worker runs: kamal-dev deploy --attach ${workflowId} (or kamal-dev worker)`;
    if (print.json) finish({ outcome: 'detached', workflowId }, () => '');
    log(hint);
    return 130;
  }
  if ('error' in result) {
    const refused = plan ? await refusalOf(session.client, result.error, plan.identity, 'deploy') : undefined;
    if (refused) throw refused;
    const failed = failedSummary(result.error);
    if (!failed) throw deployError(result.error, workflowId, result.cleanup);
    result = { summary: failed };
  }
  // Workers elsewhere may have run the VM steps: this machine's .kamal/ learns what they reached.
  await recordDeployOnSource(projectDir, projectIdentity(projectDir), result.summary);
  const closedAt = (await session.client.workflow.getHandle(workflowId).describe().catch(() => undefined))?.closeTime;
  if (closedAt) await markRecorded(projectDir, closedAt);
  const { outcome, ...summary } = result.summary;
  finish({ outcome, ...summary }, () => summaryTable(result.summary));
  return result.summary.outcome === 'deployed' ? 0 : 1;
}

/** A deploy with no VM deployed fails with its summary as the failure's details. */
function failedSummary(error: unknown): DeploySummary | undefined {
  const cause = error instanceof WorkflowFailedError ? error.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== DEPLOY_FAILED_TYPE) return undefined;
  return cause.details?.[0] as DeploySummary | undefined;
}

function endedEarly(error: unknown): boolean {
  return error instanceof WorkflowFailedError && (error.cause?.name === 'CancelledFailure' || error.cause?.name === 'TerminatedFailure');
}

/** `deploy --json --follow`: a progress document whenever something in it changed. */
function streamChanges(print: Printer): (progress: DeployProgress) => void {
  let previous = '';
  return (progress) => {
    const document = { outcome: 'progress', progress };
    const text = JSON.stringify(document);
    if (text !== previous) print.stream(document);
    previous = text;
  };
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

function deployError(error: unknown, workflowId: string, cleanup?: CleanupReport): KamalDevError {
  let cause: unknown = error instanceof WorkflowFailedError ? error.cause : error;
  while (cause instanceof Error && cause.cause && !(cause instanceof ApplicationFailure)) cause = cause.cause;
  const type = cause instanceof ApplicationFailure ? cause.type ?? '' : '';
  const detail = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
  const info: FailureDetails = typeof detail === 'string' ? { description: detail } : ((detail as FailureDetails | undefined) ?? {});
  const kind = (info.kind ?? (type.startsWith('KamalDevError.') ? type.slice('KamalDevError.'.length) : 'internal')) as ErrorKind;
  const description = info.description;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (cleanup) {
    const how = (error as WorkflowFailedError).cause?.name === 'TerminatedFailure' ? 'terminated' : 'cancelled';
    return new KamalDevError('state', `deploy ${workflowId} was ${how}: ${describeCleanup(cleanup)}`, { cause: error });
  }
  // The failure's message already starts with its file and key.
  return new KamalDevError(kind, `deploy ${workflowId} failed: ${message}`, {
    description,
    cause: error,
    // Bad input (exit 2) stays bad input through Temporal; a transient fault whose attempts are spent is exit 1.
    retry: info.retry,
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

const nullStream = { write: () => true } as unknown as NodeJS.WritableStream;
