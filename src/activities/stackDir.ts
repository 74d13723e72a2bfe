import { posix } from 'node:path';

/**
 * Where stacks live on a VM. Defined here until src/spec exports it (the spec layer owns the
 * compose transform that points env_file at SECRETS_ENV_FILE).
 */
export const STACKS_ROOT = '/opt/kamal-dev';
export const SECRETS_ENV_FILE = 'secrets.env';

export function stackDir(projectName: string): string {
  return posix.join(STACKS_ROOT, projectName);
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
