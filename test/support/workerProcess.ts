import { NativeConnection } from '@temporalio/worker';
import type { Activities } from '../../src/activities/types';
import { createWorker } from '../../src/worker';
import './quietTemporal';

export interface WorkerProcessOptions {
  address: string;
  taskQueues: { shared: string; source?: string };
  activities: Activities;
  bundlePath: string;
}

/**
 * The body of a worker process that a test starts and kills: serves the queues with the recorded
 * bundle, says `ready` on stdout once polling, and runs until it is killed (exit 1 on any error).
 */
export function runWorkerProcess(options: WorkerProcessOptions): void {
  const serve = async () => {
    const worker = await createWorker({
      connection: await NativeConnection.connect({ address: options.address }),
      taskQueues: options.taskQueues,
      activities: options.activities,
      workflowCode: { workflowBundle: { codePath: options.bundlePath } },
    });
    process.stdout.write('ready\n');
    await worker.run();
  };
  serve().catch((error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  });
}
