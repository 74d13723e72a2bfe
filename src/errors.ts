/**
 * The one domain error. `message` is one line for people, `description` says what to do about it,
 * `file`/`key` point at the input that caused it.
 *
 * `retry` is decided where the failure is understood, and src/activities/failures.ts is the one
 * place that turns it into what Temporal does:
 * - `transient`: a fault of the network, a provider or a registry; tried again with backoff, and
 *   when the attempts are spent the reason is shown (exit 1);
 * - `final`: the work failed and doing it again the same way fails the same way (exit 1);
 * - `bad-input`: the user's input (config, a reference that does not exist, refused credentials)
 *   is wrong; never retried (exit 2).
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

export type RetryClass = 'transient' | 'final' | 'bad-input';

/** What every failure carries in its details, so the CLI can show file, key, what to do, and exit as the error says. */
export interface FailureDetails {
  kind?: string;
  retry?: RetryClass;
  description?: string;
  file?: string;
  key?: string;
}

export interface KamalDevErrorOptions {
  description?: string;
  file?: string;
  key?: string;
  cause?: unknown;
  /** Default: `bad-input` for kind `config`, `final` otherwise. */
  retry?: RetryClass;
  /** The stable failure type scripts match on (the ApplicationFailure's type); default: one per kind. */
  type?: string;
}

export class KamalDevError extends Error {
  readonly kind: ErrorKind;
  readonly retry: RetryClass;
  readonly type?: string;
  readonly description?: string;
  readonly file?: string;
  readonly key?: string;

  constructor(kind: ErrorKind, message: string, options: KamalDevErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KamalDevError';
    this.kind = kind;
    this.retry = options.retry ?? (kind === 'config' ? 'bad-input' : 'final');
    this.type = options.type;
    this.description = options.description;
    this.file = options.file;
    this.key = options.key;
  }

  get retryable(): boolean {
    return this.retry === 'transient';
  }

  get exitCode(): number {
    return this.retry === 'bad-input' ? 2 : 1;
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
