// A worker process for upload-kill.test.ts: the real uploadStack (its SSH, tar and files), each attempt's
// start and completion appended to a file with this process's id, so the test can kill it mid-upload.
import { appendFileSync } from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import type { Activities } from '../../src/activities/types';
import { createVmActivities } from '../../src/activities/vm';
import { createWorker } from '../../src/worker';
import { fakeActivities } from './fakeActivities';
import './quietTemporal';

async function main(): Promise<void> {
  const [address, queue, bundlePath, recordFile] = process.argv.slice(2);
  const vm = createVmActivities({ resolveSecret: async (name) => name });
  const record = (event: string) => appendFileSync(recordFile, JSON.stringify({ step: 'uploadStack', event, pid: process.pid }) + '\n');
  const uploadStack: Activities['uploadStack'] = async (input) => {
    record('start');
    const result = await vm.uploadStack(input);
    record('done');
    return result;
  };
  const worker = await createWorker({
    connection: await NativeConnection.connect({ address }),
    taskQueues: { shared: queue },
    activities: { ...fakeActivities().activities, uploadStack },
    workflowCode: { workflowBundle: { codePath: bundlePath } },
  });
  process.stdout.write('ready\n');
  await worker.run();
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
