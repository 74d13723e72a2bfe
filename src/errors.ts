/**
 * The one domain error. `message` is one line for people, `description` says what to do about it,
 * `file`/`key` point at the input that caused it. Exit code 2 means "your input is wrong", 1 means
 * "something failed while doing the work".
 */
export type ErrorKind =
  | 'config' // config/dev.yml, .kamal/secrets, devcontainer.json, compose files, CLI flags
  | 'prerequisite' // docker, buildx, compose, temporal missing or not running
  | 'build'
  | 'registry'
  | 'provider'
  | 'ssh'
  | 'compose'
  | 'temporal'
  | 'state'
  | 'busy' // another operation holds the project's lock
  | 'internal';

export interface KamalDevErrorOptions {
  description?: string;
  file?: string;
  key?: string;
  cause?: unknown;
}

export class KamalDevError extends Error {
  readonly kind: ErrorKind;
  readonly description?: string;
  readonly file?: string;
  readonly key?: string;

  constructor(kind: ErrorKind, message: string, options: KamalDevErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KamalDevError';
    this.kind = kind;
    this.description = options.description;
    this.file = options.file;
    this.key = options.key;
  }

  get exitCode(): number {
    return this.kind === 'config' ? 2 : 1;
  }

  /** "file: key: message", the form every input error is shown in. */
  get location(): string | undefined {
    if (!this.file && !this.key) return undefined;
    return [this.file, this.key].filter(Boolean).join(': ');
  }
}

export function configError(message: string, where: { file?: string; key?: string; description?: string; cause?: unknown }): KamalDevError {
  return new KamalDevError('config', message, where);
}

export function isKamalDevError(error: unknown): error is KamalDevError {
  return error instanceof KamalDevError;
}
