// A worker process for the crash test: fake activities that take a second each and append every
// start and completion to a file, so the test can kill this process mid-deploy and count what ran.
import { appendFileSync } from 'node:fs';
import { NativeConnection } from '@temporalio/worker';
import { createWorker } from '../../src/worker';
import { fakeActivities } from './fakeActivities';
import './quietTemporal';

async function main(): Promise<void> {
  const [address, shared, source, bundlePath, recordFile] = process.argv.slice(2);
  const { activities } = fakeActivities({
    delay: () => 1000,
    record: (call) => appendFileSync(recordFile, JSON.stringify({ ...call, pid: process.pid }) + '\n'),
  });
  const worker = await createWorker({
    connection: await NativeConnection.connect({ address }),
    taskQueues: { shared, source },
    activities,
    workflowCode: { workflowBundle: { codePath: bundlePath } },
  });
  process.stdout.write('ready\n');
  await worker.run();
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
