import type { Command } from 'commander';

const exitCodes = new WeakMap<Command, number>();

/** For outcomes that are not errors but still fail (a partial deploy): main() returns it. */
export function setExitCode(command: Command, code: number): void {
  let root = command;
  while (root.parent) root = root.parent;
  exitCodes.set(root, code);
}

export function exitCodeOf(program: Command): number {
  return exitCodes.get(program) ?? 0;
}
