import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { VmHandle } from '../domain/vm';
import { knownHostsFile } from '../ssh/knownHosts';
import type { DeployPlan } from '../spec/plan';
import { sshKeyPath } from '../ssh/keys';

export const HOST_SUFFIX = '.kamal-dev';

/** OpenSSH's `Host NAME.kamal-dev` entries: the project's key and pinned host keys, nothing from ~/.ssh. */
export function sshConfigText(plan: DeployPlan, vms: VmHandle[]): string {
  const header = `# kamal-dev: the VMs of ${plan.service} (${plan.projectDir}); made by \`kamal-dev ssh-config\`, rewritten by --write\n`;
  const hosts = vms.map((vm) =>
    [
      `Host ${vm.name}${HOST_SUFFIX}`,
      `  HostName ${vm.ssh.host}`,
      `  Port ${vm.ssh.port}`,
      `  User ${vm.ssh.user}`,
      `  IdentityFile ${quoted(sshKeyPath(plan))}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${quoted(knownHostsFile(plan))}`,
      '  StrictHostKeyChecking yes',
      '',
    ].join('\n'),
  );
  return header + hosts.join('\n');
}

/** What a Docker context made by `ssh-config --write` says about itself: `remove` drops only these. */
export function dockerContextDescription(plan: DeployPlan): string {
  return `kamal-dev VM of ${plan.service} (${plan.projectDir})`;
}

export function projectSshConfigFile(plan: DeployPlan): string {
  return join(plan.projectDir, '.kamal', 'ssh_config');
}

/**
 * Puts `Include FILE` at the top of ~/.ssh/config (an Include below a Host line would only apply to
 * that host); says whether it had to. The user's own entries are kept as they are.
 */
export function includeInUserConfig(file: string, userConfig = join(homedir(), '.ssh', 'config')): boolean {
  const line = `Include ${quoted(file)}`;
  const current = existsSync(userConfig) ? readFileSync(userConfig, 'utf8') : '';
  if (current.split('\n').some((l) => l.trim() === line)) return false;
  mkdirSync(dirname(userConfig), { recursive: true, mode: 0o700 });
  writeFileSync(userConfig, `# added by kamal-dev ssh-config --write\n${line}\n\n${current}`, { mode: 0o600 });
  return true;
}

function quoted(path: string): string {
  return /\s/.test(path) ? `"${path}"` : path;
}
