import { CancellationScope, log } from '@temporalio/workflow';

export interface Compensation {
  /** Shown in logs and progress. */
  name: string;
  undo: () => Promise<void>;
}

/**
 * Runs the undo steps newest-first in a scope that a cancellation cannot interrupt. An undo that
 * fails is logged and skipped: the original failure is what the user needs to see.
 */
export async function compensate(compensations: Compensation[], onDone: (name: string) => void = () => undefined): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    for (const compensation of [...compensations].reverse()) {
      try {
        await compensation.undo();
        onDone(compensation.name);
      } catch (error) {
        log.error('compensation failed', { compensation: compensation.name, error: (error as Error).message });
      }
    }
  });
}
