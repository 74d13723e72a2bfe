import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { startLifecycle, type LifecycleWorkflow } from '../../client/lifecycle';
import { webUiLink } from '../../client/deploy';
import { refusalOf } from '../../client/lock';
import { recordLifecycleOnSource } from '../../client/sourceRecords';
import { configError } from '../../errors';
import type { LifecycleSummary } from '../../workflows/types';
import { contextOf } from '../context';
import { forgetRemovedVms } from '../forgetAccess';
import { planOf, type CliDeps } from '../deps';
import { recordDeploysDoneElsewhere } from '../records';
import { setExitCode } from '../exitCode';
import { withTemporal } from '../session';
import { table } from '../table';

const ACTIONS: { name: 'stop' | 'start' | 'remove'; workflow: LifecycleWorkflow; done: string }[] = [
  { name: 'stop', workflow: 'StopWorkspaces', done: 'stopped' },
  { name: 'start', workflow: 'StartWorkspaces', done: 'started' },
  { name: 'remove', workflow: 'RemoveWorkspaces', done: 'removed' },
];

/** stop, start and remove: durable workflows like deploy, visible in the Web UI, resumed after a crash. */
export async function action(deps: CliDeps, name: string, names: string[], options: { all?: boolean; force?: boolean }, cmd: Command): Promise<void> {
  const verb = ACTIONS.find((a) => a.name === name)!;
  if (names.length === 0 && !options.all) throw configError(`name the VMs to ${verb.name}, or pass --all`, {});
  const plan = await planOf(deps)({ projectDir: contextOf(cmd).projectDir });
  if (verb.name === 'remove' && !options.force) await confirmRemoval(deps, names.length ? names.join(', ') : `every VM of ${plan.service}`);
  const summary = await withTemporal(deps, cmd, async ({ session, sourceQueue, worker, log, print }) => {
    // The host keys the workers pin are those .kamal/known_hosts records: deploys done elsewhere first.
    await recordDeploysDoneElsewhere(deps, log, plan, session.client);
    const handle = await startLifecycle(session.client, verb.workflow, plan, {
      sharedQueue: session.settings.sharedQueue,
      sourceQueue,
      names: names.length ? names : undefined,
      profiles: session.settings.profiles,
    });
    log(`started ${handle.workflowId}: ${webUiLink(handle.workflowId, session.settings.namespace, session.settings.uiUrl)}`);
    const result = (await (await worker()).runUntil(handle.result()).catch(async (error: unknown) => {
      throw (await refusalOf(session.client, error, plan.identity, verb.name)) ?? error;
    })) as LifecycleSummary;
    await recordLifecycleOnSource(plan.projectDir, verb.name, result);
    if (verb.name === 'remove') {
      const removed = result.vms.filter((vm) => vm.state === 'done').map((vm) => vm.name);
      for (const line of await forgetRemovedVms(plan, removed)) log(line);
    }
    print.result({ outcome: result.vms.some((vm) => vm.state === 'failed') ? 'failed' : 'ok', ...result }, () => render(result, verb.done));
    return result;
  });
  setExitCode(cmd, summary.vms.some((vm) => vm.state === 'failed') ? 1 : 0);
}

function render(summary: LifecycleSummary, done: string): string {
  if (summary.vms.length === 0) return `no VMs for ${summary.service}`;
  const rows = table(['VM', 'result', 'detail']);
  for (const vm of summary.vms) {
    const containers = (vm.containers ?? []).map((c) => `${c.service} ${c.health ?? c.state}`).join(', ');
    rows.push([vm.name, vm.state === 'done' ? done : 'failed', vm.error ?? containers]);
  }
  return rows.toString();
}

/** Removal destroys data (volumes, VM disks): on a terminal ask; elsewhere demand --force. */
async function confirmRemoval(deps: CliDeps, what: string): Promise<void> {
  const stdin = deps.stdin ?? process.stdin;
  if (!stdin.isTTY) throw configError(`remove destroys ${what} and their data; pass --force to confirm`, {});
  const rl = createInterface({ input: stdin, output: deps.stderr ?? process.stderr });
  const answer = await rl.question(`Remove ${what}, with their volumes? [y/N] `);
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw configError('nothing removed', {});
}
