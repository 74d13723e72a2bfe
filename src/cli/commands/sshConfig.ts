import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { run } from '../../docker/runner';
import { contextOf } from '../context';
import { printerOf } from '../output';
import { dockerContextDescription, HOST_SUFFIX, includeInUserConfig, projectSshConfigFile, sshConfigText } from '../sshConfig';
import { withWorkspaces } from '../workspaces';

export async function action(deps: CliDeps, names: string[], options: { write?: boolean }, command: Command): Promise<void> {
  const context = contextOf(command);
  await withWorkspaces(context.projectDir, async ({ plan, select }) => {
    const vms = await select(names);
    const text = sshConfigText(plan, vms);
    const print = printerOf(command);
    if (!options.write) return print.result({ outcome: 'ok', config: text }, () => text);
    const file = projectSshConfigFile(plan);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text, { mode: 0o600 });
    const included = includeInUserConfig(file);
    const contexts: string[] = [];
    for (const vm of vms) {
      const host = `host=ssh://${vm.name}${HOST_SUFFIX}`;
      const exists = await run(['docker', 'context', 'inspect', vm.name]).then(() => true, () => false);
      await run(['docker', 'context', exists ? 'update' : 'create', vm.name, '--description', dockerContextDescription(plan), '--docker', host]);
      contexts.push(vm.name);
    }
    print.result({ outcome: 'ok', file, included, hosts: vms.map((vm) => `${vm.name}${HOST_SUFFIX}`), contexts }, () =>
      [`wrote ${file}${included ? ' and included it from ~/.ssh/config' : ''}`, ...vms.map((vm) => `  ssh ${vm.name}${HOST_SUFFIX}    docker --context ${vm.name} ps`)].join('\n'),
    );
  }, { deps, command });
}
