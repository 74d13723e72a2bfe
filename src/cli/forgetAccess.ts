import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { run } from '../docker/runner';
import type { DeployPlan } from '../spec/plan';
import { dockerContextDescription, HOST_SUFFIX, projectSshConfigFile } from './sshConfig';

/**
 * After `remove`: the Docker contexts and `.kamal/ssh_config` entries that `ssh-config --write` made
 * for the removed VMs go too (they would point at machines that are gone, or at the next machine on
 * that address). Only those: a context of the same name that kamal-dev did not make for this project
 * stays, and so do the entries of the VMs that are left. Returns what it dropped, one line each.
 */
export async function forgetRemovedVms(plan: DeployPlan, names: string[]): Promise<string[]> {
  const dropped: string[] = [];
  const file = projectSshConfigFile(plan);
  if (existsSync(file)) {
    const before = readFileSync(file, 'utf8');
    const after = withoutHosts(before, names);
    if (after !== before) {
      writeFileSync(file, after, { mode: 0o600 });
      dropped.push(`dropped ${names.filter((n) => before.includes(`Host ${n}${HOST_SUFFIX}\n`)).map((n) => `${n}${HOST_SUFFIX}`).join(', ')} from ${file}`);
    }
  }
  for (const name of names) {
    if (!(await isOurContext(plan, name))) continue;
    await run(['docker', 'context', 'rm', '--force', name]);
    dropped.push(`dropped Docker context ${name}`);
  }
  return dropped;
}

/** The file without the `Host NAME.kamal-dev` blocks of these VMs (each block runs to the next Host line). */
export function withoutHosts(text: string, names: string[]): string {
  const gone = new Set(names.map((n) => `Host ${n}${HOST_SUFFIX}`));
  const kept: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Host ')) skipping = gone.has(line.trim());
    if (!skipping) kept.push(line);
  }
  return kept.join('\n');
}

async function isOurContext(plan: DeployPlan, name: string): Promise<boolean> {
  const inspected = await run(['docker', 'context', 'inspect', name]).catch(() => undefined);
  if (!inspected) return false;
  const [context] = JSON.parse(inspected.stdout) as { Metadata?: { Description?: string }; Endpoints?: { docker?: { Host?: string } } }[];
  return context?.Metadata?.Description === dockerContextDescription(plan) && context.Endpoints?.docker?.Host === `ssh://${name}${HOST_SUFFIX}`;
}
