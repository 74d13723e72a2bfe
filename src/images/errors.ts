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

/** A build or push failure, typed for scripts; its retry class says whether trying again can help. */
export class ImageError extends KamalDevError {
  declare readonly type: ImageFailureType;

  constructor(type: ImageFailureType, kind: ErrorKind, message: string, options: KamalDevErrorOptions = {}) {
    super(kind, message, { ...options, type });
    this.name = 'ImageError';
  }
}

export function isImageError(error: unknown): error is ImageError {
  return error instanceof ImageError;
}
