import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { isKamalDevError } from '../errors';

/**
 * A KamalDevError thrown by an activity reaches the workflow as an ApplicationFailure of type
 * `KamalDevError.<kind>`, with its description kept; the workflows' retry policies name the kinds a
 * retry cannot fix (NON_RETRYABLE_ERROR_TYPES). Other errors keep their own type and are retried.
 */
export function toActivityFailure(error: unknown): unknown {
  if (!isKamalDevError(error)) return error;
  const message = error.location ? `${error.location}: ${error.message}` : error.message;
  return ApplicationFailure.create({
    type: `KamalDevError.${error.kind}`,
    message,
    details: error.description ? [error.description] : [],
    cause: error.cause instanceof Error ? error.cause : undefined,
  });
}

class FailureTypeInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: Parameters<NonNullable<ActivityInboundCallsInterceptor['execute']>>[0], next: Parameters<NonNullable<ActivityInboundCallsInterceptor['execute']>>[1]): Promise<unknown> {
    try {
      return await next(input);
    } catch (error) {
      throw toActivityFailure(error);
    }
  }
}

export const failureTypeInterceptor: ActivityInterceptorsFactory = () => ({ inbound: new FailureTypeInterceptor() });
