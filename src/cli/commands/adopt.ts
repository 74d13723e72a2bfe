import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import type { VmHandle } from '../../domain/vm';
import { ErrorKind, type FailureDetails, KamalDevError } from '../../errors';
import { contextOf } from '../context';
import type { CliDeps } from '../deps';
import { printerOf } from '../output';
import { table } from '../table';
import { withWorkspaces } from '../workspaces';

/**
 * Takes over VMs that have this deployment's names but another project identity (another checkout,
 * a copy of this folder) or none (made before identities existed). Runs in-process, like `list`: an
 * adoption is one idempotent relabel per VM, with nothing to resume.
 */
export async function action(deps: CliDeps, names: string[], _options: unknown, command: Command): Promise<void> {
  const print = printerOf(command, deps);
  await withWorkspaces(contextOf(command).projectDir, async ({ plan, activities }) => {
    const adopted: VmHandle[] = [];
    for (const name of names) adopted.push(await activities.adoptVm({ plan, name }).catch((error: unknown) => Promise.reject(asKamalDevError(error))));
    print.result({ outcome: 'ok', service: plan.service, vms: adopted }, () => {
      const output = table(['VM', 'provider', 'ssh', 'result'], print.stdout);
      for (const vm of adopted) output.push([vm.name, vm.provider, `${vm.ssh.user}@${vm.ssh.host}:${vm.ssh.port}`, "adopted: now this project's"]);
      return output.toString();
    });
  }, { deps, command });
}

/** An activity's failure as the domain error it was made from, so the CLI shows its description and exit code. */
function asKamalDevError(error: unknown): unknown {
  if (!(error instanceof ApplicationFailure)) return error;
  const details = (error.details?.[0] ?? {}) as FailureDetails;
  return new KamalDevError((details.kind ?? 'internal') as ErrorKind, error.message, { description: details.description, cause: error });
}
