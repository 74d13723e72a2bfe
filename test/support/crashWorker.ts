// A worker process for the crash test: fake activities that take a second each and append every
// start and completion to a file, so the test can kill this process mid-deploy and count what ran.
import { appendFileSync } from 'node:fs';
import { fakeActivities } from './fakeActivities';
import { runWorkerProcess } from './workerProcess';

const [address, shared, source, bundlePath, recordFile] = process.argv.slice(2);
const { activities } = fakeActivities({
  delay: () => 1000,
  record: (call) => appendFileSync(recordFile, JSON.stringify({ ...call, pid: process.pid }) + '\n'),
});
runWorkerProcess({ address, taskQueues: { shared, source }, activities, bundlePath });
