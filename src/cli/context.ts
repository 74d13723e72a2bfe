import { resolve } from 'node:path';
import type { Command } from 'commander';
import { configError } from '../errors';
import type { GlobalOptions } from './output';

export interface CommandContext extends GlobalOptions {
  /** The project directory: global --cwd/-C, else the current directory. */
  projectDir: string;
}

/** Every command reads the global options the same way. */
export function contextOf(command: Command): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions & { cwd?: string }>();
  return { verbose: globals.verbose, json: globals.json, projectDir: resolve(globals.cwd ?? process.cwd()) };
}

/** `--count 3` -> 3; anything else is a usage error naming the flag. */
export function parseCount(value: string): number {
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > 100) throw configError(`expected a whole number from 1 to 100, got "${value}"`, { key: '--count' });
  return count;
}
