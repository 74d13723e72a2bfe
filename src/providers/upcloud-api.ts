import { setTimeout as delay } from 'node:timers/promises';
import { KamalDevError, RetryClass } from '../errors';
import { redact } from '../spec/redact';

/** Returns a secret's value by name, on the worker; undefined or '' when it is not set. */
export type ResolveSecret = (name: string) => Promise<string | undefined> | string | undefined;
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface UpcloudApiOptions {
  baseUrl: string;
  usernameSecret: string;
  passwordSecret: string;
  resolveSecret: ResolveSecret;
  retry?: Partial<RetryPolicy>;
  sleep?: Sleep;
  requestTimeoutMs?: number;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 1_000, maxDelayMs: 30_000 };
/** A Retry-After longer than this is not worth holding an activity for; the next attempt is made sooner. */
const MAX_RETRY_AFTER_MS = 60_000;

/** Rejects with the signal's own reason, as fetch does, so a cancellation reads the same wherever it lands. */
export const realSleep: Sleep = (ms, signal) =>
  delay(ms, undefined, { signal }).catch((error) => {
    throw signal?.aborted ? signal.reason : error;
  });

/** A failed UpCloud call; `status` 0 means no HTTP answer at all (network error, timeout). */
export class UpcloudApiError extends KamalDevError {
  readonly retryAfterMs?: number;

  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    options: { retry: RetryClass; retryAfterMs?: number; description?: string },
  ) {
    super('provider', message, { retry: options.retry, description: options.description });
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof UpcloudApiError && error.status === 404;
}

export class UpcloudApi {
  private credentials?: Promise<string>;
  private readonly retry: RetryPolicy;
  private readonly sleep: Sleep;
  private secretValues: string[] = [];

  constructor(private readonly options: UpcloudApiOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.sleep = options.sleep ?? realSleep;
  }

  /** One call with bounded retries on 429, 5xx and network errors. */
  request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return this.withRetries(() => this.send<T>(method, path, body, signal), signal);
  }

  /** Runs `attempt` again after transient failures, waiting Retry-After or an exponential backoff. */
  async withRetries<T>(attempt: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let n = 1; ; n++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof UpcloudApiError) || !error.retryable || n >= this.retry.attempts) throw error;
        const backoff = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (n - 1));
        await this.sleep(Math.min(MAX_RETRY_AFTER_MS, Math.max(error.retryAfterMs ?? 0, backoff)), signal);
      }
    }
  }

  /** One attempt, no retries. */
  async send<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const authorization = await this.authorization();
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 60_000);
    let response: Response;
    try {
      response = await fetch(`${this.options.baseUrl}${path}`, {
        method,
        headers: { authorization, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      const reason = timeout.aborted ? 'no answer in time' : String((error as Error).cause ?? (error as Error).message);
      throw new UpcloudApiError(`UpCloud API ${method} ${path}: ${reason}`, 0, undefined, { retry: 'transient' });
    }
    const text = await response.text();
    if (response.ok) return (text ? JSON.parse(text) : undefined) as T;
    throw this.failure(method, path, response, text);
  }

  private failure(method: string, path: string, response: Response, text: string): UpcloudApiError {
    const { status } = response;
    const { code, message } = parseError(text);
    const said = redact(message ?? response.statusText, this.secretValues);
    const what = `UpCloud API ${method} ${path}: HTTP ${status}${code ? ` ${code}` : ''}: ${said}`;
    if (status === 401 || status === 403) {
      const { usernameSecret, passwordSecret } = this.options;
      return new UpcloudApiError(
        `UpCloud rejected the API credentials from secrets ${usernameSecret} and ${passwordSecret} (HTTP ${status}${code ? ` ${code}` : ''})`,
        status,
        code,
        {
          retry: 'bad-input',
          description: `Set ${usernameSecret} and ${passwordSecret} (in .kamal/secrets or the environment) to the username and password of an UpCloud account that is allowed to use the API (UpCloud Hub: People, API connections).`,
        },
      );
    }
    if (status === 429 || status >= 500) {
      return new UpcloudApiError(what, status, code, {
        retry: 'transient',
        retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
        description: 'UpCloud is busy or failing right now; try again in a few minutes.',
      });
    }
    return new UpcloudApiError(what, status, code, { retry: 'final' });
  }

  private authorization(): Promise<string> {
    this.credentials ??= (async () => {
      const username = await this.secret(this.options.usernameSecret);
      const password = await this.secret(this.options.passwordSecret);
      this.secretValues = [username, password];
      return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    })();
    // A secret that was missing may be set by the next attempt.
    this.credentials.catch(() => (this.credentials = undefined));
    return this.credentials;
  }

  private async secret(name: string): Promise<string> {
    const value = await this.options.resolveSecret(name);
    if (!value) {
      throw new KamalDevError('config', `secret ${name} is not set (UpCloud API credentials)`, {
        description: `Add ${name} to .kamal/secrets or set it in the environment of the worker.`,
      });
    }
    return value;
  }
}

/** UpCloud answers `{error: {error_code, error_message}}`; newer endpoints answer problem+json. */
function parseError(text: string): { code?: string; message?: string } {
  try {
    const body = JSON.parse(text) as { error?: { error_code?: string; error_message?: string }; type?: string; title?: string };
    if (body.error) return { code: body.error.error_code, message: body.error.error_message };
    return { code: body.type?.split('/').pop()?.toUpperCase(), message: body.title };
  } catch {
    return { message: text.slice(0, 200) || undefined };
  }
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
