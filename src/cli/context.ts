import { resolve } from 'node:path';
import type { Command } from 'commander';
import { MAX_VMS, wholeNumber } from '../spec/whole-number';
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

/** A flag that takes a whole number from 1 to `max`: anything else is a usage error naming the flag, worded the same for every such flag. */
export function wholeNumberFlag(flag: string, max: number): (value: string) => number {
  return (value) => wholeNumber(value, flag, max);
}

/** `--count 3` -> 3, on every command that takes it. */
export const parseCount = wholeNumberFlag('--count', MAX_VMS);

/** One wording per flag, so every command that takes it says the same. */
export const COUNT_HELP = `number of VMs, 1 to ${MAX_VMS} (default: vms.count in config/dev.yml, else 1)`;
export const TAG_HELP = 'image tag (default: the git short sha, or a UTC timestamp outside git)';
export const FROM_HELP = 'devcontainer.json to use (default: .devcontainer/devcontainer.json or .devcontainer.json)';
export const NO_CACHE_HELP = 'build every step again, without the build cache';
