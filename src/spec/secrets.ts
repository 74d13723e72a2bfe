import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { configError, KamalDevError } from '../errors';
import { parseSecrets, SecretEntry } from './secrets-parse';

export const DEFAULT_SECRETS_PATH = '.kamal/secrets';

/**
 * Secret values, resolved on the worker only. The process environment overrides the file.
 * `$(command)` in the file runs `/bin/sh -c command` (as Kamal does, with the project folder as the
 * working directory and the environment plus earlier keys), when the file is loaded: loading a
 * secrets file can therefore run commands such as `$(op read ...)` or `$(cat ~/.token)`.
 */
export class Secrets {
  constructor(
    readonly file: string,
    private readonly fromFile: ReadonlyMap<string, string>,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** Every name the file defines (values never leave this object except through resolveSecret). */
  get names(): string[] {
    return [...this.fromFile.keys()];
  }

  get(name: string): string | undefined {
    return this.env[name] ?? this.fromFile.get(name);
  }

  /** The value, or a KamalDevError naming the variable and the secrets file. */
  resolveSecret(name: string): string {
    const value = this.get(name);
    if (value === undefined || value === '') throw missingSecret(name, this.file);
    return value;
  }

  /** Values of the given names, for an env file or a child's environment. */
  resolveAll(names: Iterable<string>): Record<string, string> {
    return Object.fromEntries([...new Set(names)].map((name) => [name, this.resolveSecret(name)]));
  }
}

export function missingSecret(name: string, file: string): KamalDevError {
  return configError(`secret ${name} is not set`, {
    file,
    key: name,
    description: `Add ${name}=... to ${file} (or ${name}=$(command) to read it from a password manager). To take it from the environment instead, list it under secrets: in config/dev.yml and export it where the kamal-dev worker runs.`,
  });
}

/** Loads (and evaluates) the secrets file; a missing file is an empty one. */
export function loadSecrets(file: string, env: NodeJS.ProcessEnv = process.env): Secrets {
  const entries = existsSync(file) ? parseSecrets(readFileSync(file, 'utf8'), file) : [];
  return new Secrets(file, evaluate(entries, file, env), env);
}

/** The names the file defines, without evaluating anything (no commands run). */
export function readSecretNames(file: string): string[] {
  if (!existsSync(file)) return [];
  return [...new Set(parseSecrets(readFileSync(file, 'utf8'), file).map((e) => e.key))];
}

/**
 * A value written literally in the file (no `$VAR`, no `$(command)`), else undefined: for values
 * that are not secret, such as a registry user name, read without running anything.
 */
export function readLiteralSecret(file: string, name: string): string | undefined {
  if (!existsSync(file)) return undefined;
  const entry = parseSecrets(readFileSync(file, 'utf8'), file).filter((e) => e.key === name).pop();
  if (!entry || !entry.parts.every((part) => 'literal' in part)) return undefined;
  return entry.parts.map((part) => (part as { literal: string }).literal).join('');
}

function evaluate(entries: SecretEntry[], file: string, env: NodeJS.ProcessEnv): Map<string, string> {
  const values = new Map<string, string>();
  const lookup = (name: string) => env[name] ?? values.get(name) ?? '';
  for (const entry of entries) {
    const value = entry.parts
      .map((part) => {
        if ('literal' in part) return part.literal;
        if ('variable' in part) return lookup(part.variable);
        return runCommand(part.command, entry, file, { ...env, ...Object.fromEntries(values) });
      })
      .join('');
    values.set(entry.key, value);
  }
  return values;
}

function runCommand(command: string, entry: SecretEntry, file: string, env: NodeJS.ProcessEnv): string {
  try {
    const output = execFileSync('/bin/sh', ['-c', command], { env, cwd: dirname(dirname(file)), stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    return output.replace(/\n+$/, '');
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-3).join('\n');
    throw configError(`line ${entry.line}: the command in $(...) failed`, {
      file,
      key: entry.key,
      description: `${stderr || (error as Error).message}\nThe command runs with /bin/sh in the project folder.`,
      cause: error,
    });
  }
}

/** A resolver that loads (and evaluates) the file on first use only, so commands that need no secret run none. */
export function lazySecretResolver(file: string, env: NodeJS.ProcessEnv = process.env): (name: string) => string {
  let secrets: Secrets | undefined;
  return (name) => (secrets ??= loadSecrets(file, env)).resolveSecret(name);
}
