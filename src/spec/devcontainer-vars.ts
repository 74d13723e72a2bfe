import { basename } from 'node:path';

/**
 * devcontainer.json variables resolved on this machine: `${localEnv:VAR}` / `${env:VAR}` (with an
 * optional `:default`), `${localWorkspaceFolder}`, `${localWorkspaceFolderBasename}`,
 * `${containerWorkspaceFolder}`, `${containerWorkspaceFolderBasename}`. Others (`${containerEnv:...}`,
 * `${devcontainerId}`) only have a value inside the running container and are left as written.
 */
export interface VariableContext {
  localWorkspaceFolder: string;
  containerWorkspaceFolder: string;
  env: NodeJS.ProcessEnv;
}

const VARIABLE = /\$\{([A-Za-z]+)(?::([^}:]*))?(?::([^}]*))?\}/g;

export function substitute(value: string, context: VariableContext): string {
  return value.replace(VARIABLE, (whole, name: string, arg?: string, fallback?: string) => {
    switch (name) {
      case 'localEnv':
      case 'env':
        return arg ? (context.env[arg] ?? fallback ?? '') : whole;
      case 'localWorkspaceFolder':
        return context.localWorkspaceFolder;
      case 'localWorkspaceFolderBasename':
        return basename(context.localWorkspaceFolder);
      case 'containerWorkspaceFolder':
        return context.containerWorkspaceFolder;
      case 'containerWorkspaceFolderBasename':
        return basename(context.containerWorkspaceFolder);
      default:
        return whole;
    }
  });
}

/** Substitutes in every string of a JSON value. */
export function substituteDeep<T>(value: T, context: VariableContext): T {
  if (typeof value === 'string') return substitute(value, context) as T;
  if (Array.isArray(value)) return value.map((v) => substituteDeep(v, context)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteDeep(v, context)])) as T;
  }
  return value;
}

/**
 * postCreateCommand / postStartCommand in one shape: a string runs in a shell, an array runs as argv,
 * an object runs each named entry (string or array) in parallel.
 */
export type LifecycleStep = ({ name?: string; shell: string } | { name?: string; argv: string[] }) & {
  /** The Dev Container Feature it comes from; features' commands run one after another, before the devcontainer's own. */
  feature?: string;
};

export function lifecycleSteps(value: string | string[] | Record<string, string | string[]> | undefined): LifecycleStep[] {
  if (value === undefined) return [];
  if (typeof value === 'string') return value.trim() ? [{ shell: value }] : [];
  if (Array.isArray(value)) return value.length ? [{ argv: value }] : [];
  return Object.entries(value).flatMap(([name, step]) => lifecycleSteps(step).map((s) => ({ ...s, name })));
}
