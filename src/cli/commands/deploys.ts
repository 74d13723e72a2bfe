import type { Command } from 'commander';
import { listDeploys, type DeployRecord } from '../../client/deploys';
import { contextOf } from '../context';
import { planOf, type CliDeps } from '../deps';
import { withTemporal } from '../session';
import { table } from '../table';

/** `kamal-dev deploys`: this project's running and recent deploys, from any machine that started them. */
export async function action(deps: CliDeps, options: { limit: number }, command: Command): Promise<void> {
  const { identity } = await planOf(deps)({ projectDir: contextOf(command).projectDir });
  await withTemporal(deps, command, async ({ session, print }) => {
    const deploys = await listDeploys(session.client, identity, { limit: options.limit, ui: session.settings });
    print.result({ outcome: 'ok', deploys }, () => render(deploys, print.stdout));
  }, { worker: false });
}

function render(deploys: DeployRecord[], stream: NodeJS.WritableStream): string {
  if (deploys.length === 0) return 'no deploys of this project yet (start one with `kamal-dev deploy`)';
  const rows = table(['deploy', 'state', 'started', 'VMs deployed', 'Web UI'], stream);
  for (const d of deploys) rows.push([d.workflowId, d.state, d.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'), `${d.vms.deployed}/${d.vms.total ?? '?'}`, d.webUi]);
  return rows.toString();
}
