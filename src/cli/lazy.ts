import type { CliDeps } from './deps';

/** What a file of src/cli/commands exports: the command's action, with the deps first and then commander's arguments. */
export interface CommandAction {
  // Commander hands actions untyped arguments; each command's own action declares their types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  action(deps: CliDeps, ...args: any[]): unknown;
}

/**
 * A command's action that loads its module when the command runs: `--help`, `--version` and every
 * other command never load what it needs (the Temporal client, ssh2, dockerode, the spec's parsers).
 * `bound` go between the deps and commander's arguments (`stop`, `start`, `remove` share one action).
 */
export function lazyAction(load: () => Promise<CommandAction>, deps: CliDeps, ...bound: unknown[]): (...args: unknown[]) => Promise<void> {
  return async (...args) => void (await (await load()).action(deps, ...bound, ...args));
}
