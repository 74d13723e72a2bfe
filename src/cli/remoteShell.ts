import { spawnSync } from 'node:child_process';
import type { VmHandle } from '../domain/vm';
import { knownHostsFile } from '../ssh/knownHosts';
import { stackRef } from '../remote/stackDir';
import { composeExec } from '../docker/compose';
import { KamalDevError } from '../errors';
import type { Devcontainer } from '../spec/devcontainer';
import type { DeployPlan } from '../spec/plan';
import { sshKeyPath } from '../ssh/keys';
import { remoteCommandLine } from '../ssh/quote';

/**
 * A person's shell in the devcontainer: bash when the image has it, else sh, both as login shells so
 * the image's profile (PATH of version managers) applies.
 */
export const INTERACTIVE_SHELL = ['/bin/sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];

export interface RemoteRun {
  /** argv on the VM; absent: the login shell of the VM's SSH user. */
  argv?: string[];
  /** Needs root on the VM (docker): sudo for a non-root SSH user. */
  root?: boolean;
  tty: boolean;
}

/**
 * OpenSSH's argv for a VM: the project's key and pinned host keys only. The remote command goes as
 * ONE argument already quoted for the remote shell (src/ssh/quote.ts), so sshd's shell splits it
 * back into exactly the argv given here.
 */
export function opensshArgv(plan: DeployPlan, vm: VmHandle, run: RemoteRun): string[] {
  return [
    '-i', sshKeyPath(plan),
    '-p', String(vm.ssh.port),
    '-o', `UserKnownHostsFile=${knownHostsFile(plan)}`,
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'LogLevel=ERROR',
    run.tty ? '-t' : '-T',
    `${vm.ssh.user}@${vm.ssh.host}`,
    ...(run.argv ? ['--', remoteCommandLine(run.argv, { sudo: run.root === true && vm.ssh.user !== 'root' })] : []),
  ];
}

/**
 * A command in a service's container: the primary service's as devcontainer tools run it (in
 * workspaceFolder, as remoteUser, with remoteEnv); any other service's as its image defines.
 */
export function containerArgv(plan: DeployPlan, devcontainer: Devcontainer, service: string, command: string[], tty: boolean): string[] {
  const primary = service === plan.stack.primaryService;
  const env = Object.fromEntries(Object.entries(devcontainer.remoteEnv).filter((e): e is [string, string] => e[1] !== null));
  return composeExec(stackRef(plan), service, command, {
    tty,
    ...(primary ? { workdir: devcontainer.workspaceFolder, user: devcontainer.remoteUser, env } : {}),
  });
}

/** Runs OpenSSH in the foreground with this terminal; resolves with the remote command's exit code. */
export function runOpenssh(argv: string[]): number {
  const result = spawnSync('ssh', argv, { stdio: 'inherit' });
  if (result.error) throw new KamalDevError('prerequisite', 'ssh is not installed', { description: 'Install OpenSSH (Debian: apt-get install openssh-client).' });
  return result.status ?? 255;
}
