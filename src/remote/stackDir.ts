import { posix } from 'node:path';
import type { StackRef } from '../docker/compose';
import { remoteStackDir as stackDir } from '../spec/compose-mounts';
import type { DeployPlan } from '../spec/plan';

/** The compose file refers to secrets as ${NAME}; Compose reads their values from SECRETS_ENV_FILE, passed with --env-file. */
export const SECRETS_ENV_FILE = 'secrets.env';

/** The stack's compose project on the VM; its secrets (StackPlan.secrets) are interpolated from SECRETS_ENV_FILE. */
export function stackRef(plan: DeployPlan): StackRef {
  const dir = stackDir(plan.stack.projectName);
  return { project: plan.stack.projectName, dir, ...(plan.stack.secrets.length > 0 ? { envFile: posix.join(dir, SECRETS_ENV_FILE) } : {}) };
}

/** Resolves a target that is relative to the stack folder (absolute targets stay as they are). */
export function inStack(dir: string, target: string): string {
  return posix.isAbsolute(target) ? target : posix.join(dir, target);
}

/**
 * A Compose env file. Single quotes keep a value literal (no `$` interpolation); a value that holds a
 * single quote or a newline is double-quoted with its backslashes, quotes, dollars and newlines escaped.
 */
export function envFileContent(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([name, value]) => {
      if (!/[\n']/.test(value)) return `${name}='${value}'\n`;
      const escaped = value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\n/g, '\\n');
      return `${name}="${escaped}"\n`;
    })
    .join('');
}
