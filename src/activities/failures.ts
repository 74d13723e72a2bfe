import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Next } from '@temporalio/common';
import { isKamalDevError, KamalDevError } from '../errors';
import { isImageError } from '../images/errors';

/** Stable ApplicationFailure types of user errors (never retried); anything else is transient and retried. */
export type FailureType =
  | 'ConfigInvalid'
  | 'SshAuthFailed'
  | 'SshHostKeyChanged'
  | 'ProviderError'
  | 'UnsupportedOs'
  | 'RegistryAuth'
  | 'ImageNotFound'
  | 'ComposeInvalid'
  | 'StackUnhealthy'
  | 'DevcontainerCommandFailed';

/** What every failure carries in its details, so the CLI can show file, key and what to do. */
export interface FailureDetails {
  kind?: string;
  description?: string;
  file?: string;
  key?: string;
}

export function userFailure(type: string, error: KamalDevError | string): ApplicationFailure {
  const message = typeof error === 'string' ? error : error.location ? `${error.location}: ${error.message}` : error.message;
  const details: FailureDetails[] =
    typeof error === 'string' ? [] : [{ kind: error.kind, description: error.description, file: error.file, key: error.key }];
  return ApplicationFailure.create({ type, message, nonRetryable: true, details });
}

/**
 * The one mapping from errors to what Temporal sees: image errors keep their own type and
 * retryability, other KamalDevErrors are user errors (non-retryable) typed by their kind, anything
 * else is transient and retried as it is.
 */
export function toActivityFailure(error: unknown, fallback: string = 'KamalDevError'): Error {
  if (isImageError(error)) {
    const details: FailureDetails = { kind: error.kind, description: error.description, file: error.file, key: error.key };
    return ApplicationFailure.create({ message: error.message, type: error.type, nonRetryable: !error.retryable, details: [details] });
  }
  if (isKamalDevError(error)) {
    const type = error.kind === 'config' ? 'ConfigInvalid' : error.kind === 'prerequisite' ? 'PrerequisiteMissing' : (sshType(error) ?? fallback);
    return userFailure(type, error);
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Runs an activity body and maps what it throws with toActivityFailure. */
export async function classified<T>(fallback: FailureType, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toActivityFailure(error, fallback);
  }
}

function sshType(error: KamalDevError): FailureType | undefined {
  if (error.kind !== 'ssh') return undefined;
  return /host key/.test(error.message) ? 'SshHostKeyChanged' : 'SshAuthFailed';
}

/**
 * The worker's safety net: an activity that lets a KamalDevError escape without mapping it still
 * reaches the workflow as a typed, non-retryable failure with its description.
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
