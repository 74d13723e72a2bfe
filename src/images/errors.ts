import { ErrorKind, KamalDevError, KamalDevErrorOptions } from '../errors';

/** Stable failure types: the `type` of the ApplicationFailure an activity throws, and what scripts match on. */
export type ImageFailureType =
  | 'PrerequisiteMissing'
  | 'DockerfileMissing'
  | 'BuildSecretMissing'
  | 'BuildFailed'
  | 'RegistryCredentialsMissing'
  | 'RegistryAuthFailed'
  | 'RegistryUnavailable'
  | 'PushFailed'
  | 'PushNotVerified'
  | 'NoRecordedBuild';

/**
 * A build or push failure. `retryable` says whether trying again can help: a registry that is down
 * or answers 5xx can; a wrong password, a failing RUN step or a missing Dockerfile cannot.
 */
export class ImageError extends KamalDevError {
  readonly retryable: boolean;

  constructor(
    readonly type: ImageFailureType,
    kind: ErrorKind,
    message: string,
    options: KamalDevErrorOptions & { retryable?: boolean } = {},
  ) {
    super(kind, message, options);
    this.name = 'ImageError';
    this.retryable = options.retryable ?? false;
  }
}

export function isImageError(error: unknown): error is ImageError {
  return error instanceof ImageError;
}
