import { ApplicationFailure } from '@temporalio/common';
import { isKamalDevError, KamalDevError } from '../errors';

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
  | 'StackUnhealthy';

export function userFailure(type: FailureType, error: KamalDevError | string): ApplicationFailure {
  const message = typeof error === 'string' ? error : error.message;
  const description = typeof error === 'string' ? undefined : error.description;
  return ApplicationFailure.create({ type, message, nonRetryable: true, details: description ? [{ description }] : [] });
}

/** Runs an activity body; a KamalDevError becomes a non-retryable failure of the type its kind maps to. */
export async function classified<T>(fallback: FailureType, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (!isKamalDevError(error)) throw error;
    throw userFailure(error.kind === 'config' ? 'ConfigInvalid' : sshType(error) ?? fallback, error);
  }
}

function sshType(error: KamalDevError): FailureType | undefined {
  if (error.kind !== 'ssh') return undefined;
  return /host key/.test(error.message) ? 'SshHostKeyChanged' : 'SshAuthFailed';
}
