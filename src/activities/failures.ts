import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Next } from '@temporalio/common';
import { type FailureDetails, isKamalDevError, KamalDevError } from '../errors';

/** Stable ApplicationFailure types an activity step falls back to when its error names none. */
export type FailureType =
  | 'ConfigInvalid'
  | 'SshAuthFailed'
  | 'SshHostKeyChanged'
  | 'ProviderError'
  | 'UnsupportedOs'
  | 'RegistryAuth'
  | 'ImageNotFound'
  | 'ComposeInvalid'
  | 'ComposeFailed'
  | 'StackUnhealthy'
  | 'DevcontainerCommandFailed';

/**
 * The one mapping from errors to what Temporal sees. A KamalDevError becomes an ApplicationFailure
 * of its own type (else one for its kind, else the step's fallback) that Temporal retries with the
 * profile's backoff exactly when its retry class is `transient`. Anything else (a refused
 * connection, a command that failed in a way nobody recognised) is retried as it is.
 */
export function toActivityFailure(error: unknown, fallback: string = 'KamalDevError'): Error {
  if (!isKamalDevError(error)) return error instanceof Error ? error : new Error(String(error));
  const details: FailureDetails = { kind: error.kind, retry: error.retry, description: error.description, file: error.file, key: error.key };
  return ApplicationFailure.create({
    type: error.type ?? typeOfKind(error) ?? fallback,
    message: error.location ? `${error.location}: ${error.message}` : error.message,
    nonRetryable: !error.retryable,
    details: [details],
  });
}

function typeOfKind(error: KamalDevError): string | undefined {
  if (error.kind === 'config') return 'ConfigInvalid';
  if (error.kind === 'prerequisite') return 'PrerequisiteMissing';
  return undefined;
}

/** Runs an activity body and maps what it throws with toActivityFailure. */
export async function classified<T>(fallback: FailureType, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toActivityFailure(error, fallback);
  }
}

/**
 * The worker's safety net: an activity that lets a KamalDevError escape without mapping it still
 * reaches the workflow as a typed failure with its retry class and description.
 */
class FailureTypeInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (error) {
      throw toActivityFailure(error);
    }
  }
}

export const failureTypeInterceptor: ActivityInterceptorsFactory = () => ({ inbound: new FailureTypeInterceptor() });
