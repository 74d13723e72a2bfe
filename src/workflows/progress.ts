import { ApplicationFailure, defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { ActivityFailure, ChildWorkflowFailure, isCancellation, upsertSearchAttributes } from '@temporalio/workflow';
import type { StepProgress, StepState } from './types';

export const SERVICE_ATTRIBUTE = defineSearchAttributeKey('KamalDevService', SearchAttributeType.KEYWORD);
export const PHASE_ATTRIBUTE = defineSearchAttributeKey('KamalDevPhase', SearchAttributeType.KEYWORD);

/** Both workflows answer this query name (the client queries by name, without importing workflow code). */
export const PROGRESS_QUERY = 'progress';

export function setPhase(phase: string): void {
  upsertSearchAttributes([{ key: PHASE_ATTRIBUTE, value: phase }]);
}

/** Records each step's state and timings as the workflow runs it (workflow time is deterministic). */
export class StepTracker {
  readonly steps: StepProgress[];

  constructor(names: string[]) {
    this.steps = names.map((name) => ({ name, state: 'pending' }));
  }

  /** A step known only once the plan is there (the workspace seed). */
  add(name: string): void {
    this.steps.push({ name, state: 'pending' });
  }

  async run<T>(name: string, fn: () => Promise<T>, describe?: (result: T) => string | undefined): Promise<T> {
    const step = this.step(name);
    Object.assign(step, { state: 'running', startedAt: new Date().toISOString(), finishedAt: undefined, message: undefined });
    try {
      const result = await fn();
      this.mark(name, 'done', describe?.(result));
      return result;
    } catch (error) {
      this.mark(name, 'failed', failureMessage(error));
      throw error;
    }
  }

  mark(name: string, state: StepState, message?: string): void {
    const step = this.step(name);
    step.state = state;
    if (state !== 'pending' && state !== 'skipped') step.finishedAt = new Date().toISOString();
    if (message !== undefined) step.message = message;
  }

  private step(name: string): StepProgress {
    const step = this.steps.find((s) => s.name === name);
    if (!step) throw ApplicationFailure.nonRetryable(`unknown step ${name}`, 'KamalDevError.internal');
    return step;
  }
}

/** The innermost useful message of an activity or child failure. */
export function failureMessage(error: unknown): string {
  if (isCancellation(error)) return 'cancelled';
  let current: unknown = error;
  while (current instanceof ActivityFailure || current instanceof ChildWorkflowFailure) {
    if (!current.cause) break;
    current = current.cause;
  }
  return current instanceof Error ? current.message : String(current);
}
