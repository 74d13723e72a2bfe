import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Duration } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Activities } from './activities/types';
import { failureTypeInterceptor } from './activities/failures';

export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  /** shared: workflows and VM activities (any machine); source: plan/build/push on the machine holding the project. */
  taskQueues: { shared: string; source?: string };
  activities: Activities;
  /** Prebuilt code (tests bundle once); otherwise dist/workflow-bundle.js when built, else the sources. */
  workflowCode?: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'>;
  /** How long running activities get to finish (and heartbeat out) after shutdown starts. */
  shutdownGraceTime?: Duration;
  identity?: string;
}

export interface KamalDevWorker {
  /** Polls until shutdown() (or a shutdown signal installed on the Runtime). */
  run(): Promise<void>;
  /** Polls while `promise` is pending, then shuts down and returns its result. */
  runUntil<T>(promise: Promise<T>): Promise<T>;
  shutdown(): void;
  /**
   * Releases a worker that never ran: its workflow threads exist from creation and would keep the
   * process alive (and its connection unclosable) after a command failed before running it.
   */
  release(): Promise<void>;
}

/** The workflow code to load: the bundle made at build time when present, else the TypeScript sources. */
export function defaultWorkflowCode(dir: string = __dirname): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const bundle = join(dir, WORKFLOW_BUNDLE_FILE);
  if (existsSync(bundle)) return { workflowBundle: { codePath: bundle } };
  return { workflowsPath: require.resolve('./workflows') };
}

export async function createWorker(options: CreateWorkerOptions): Promise<KamalDevWorker> {
  const common = {
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    activities: options.activities,
    interceptors: { activity: [failureTypeInterceptor] },
    shutdownGraceTime: options.shutdownGraceTime ?? '30s',
    // Heartbeat details carry build and push progress, which the CLI shows: send them within a second
    // (the defaults wait up to 30-60 s, or 80% of the heartbeat timeout).
    maxHeartbeatThrottleInterval: 1000,
    defaultHeartbeatThrottleInterval: 1000,
    ...(options.identity ? { identity: options.identity } : {}),
  };
  const { shared, source } = options.taskQueues;
  // Made side by side: each waits on the server and, the shared one, on loading the workflow bundle.
  const made = await Promise.allSettled([
    Worker.create({ ...common, ...(options.workflowCode ?? defaultWorkflowCode()), taskQueue: shared }),
    ...(source && source !== shared ? [Worker.create({ ...common, taskQueue: source })] : []),
  ]);
  const failed = made.find((m): m is PromiseRejectedResult => m.status === 'rejected');
  const workers = made.filter((m): m is PromiseFulfilledResult<Worker> => m.status === 'fulfilled').map((m) => m.value);
  if (failed) {
    // The one that was made would hold the process (see release()).
    await combine(workers).release();
    throw failed.reason;
  }
  return combine(workers);
}

function combine(workers: Worker[]): KamalDevWorker {
  const shutdown = () => {
    for (const worker of workers) {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    }
  };
  // One worker failing stops the others, so the process never half-polls.
  const run = async () => {
    const runs = workers.map((w) => w.run().catch((error) => (shutdown(), Promise.reject(error))));
    await Promise.all(runs);
  };
  async function runUntil<T>(promise: Promise<T>): Promise<T> {
    const running = run();
    try {
      return await Promise.race([promise, running.then(() => Promise.reject(new Error('worker stopped')))]);
    } finally {
      shutdown();
      await running.catch(() => undefined);
    }
  }
  return {
    run,
    shutdown,
    runUntil,
    async release() {
      // The SDK only tears a worker down from RUNNING: a run that ends at once is the way out.
      if (workers.every((worker) => worker.getState() === 'INITIALIZED')) await runUntil(Promise.resolve());
    },
  };
}
