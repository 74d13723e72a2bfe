// A worker process for upload-kill.test.ts: the real uploadStack (its SSH, tar and files), each attempt's
// start and completion appended to a file with this process's id, so the test can kill it mid-upload.
import { appendFileSync } from 'node:fs';
import type { Activities } from '../../src/activities/types';
import { createVmActivities } from '../../src/activities/vm';
import { fakeActivities } from './fakeActivities';
import { runWorkerProcess } from './workerProcess';

const [address, queue, bundlePath, recordFile] = process.argv.slice(2);
const vm = createVmActivities({ resolveSecret: async (name) => name });
const record = (event: string) => appendFileSync(recordFile, JSON.stringify({ step: 'uploadStack', event, pid: process.pid }) + '\n');
const uploadStack: Activities['uploadStack'] = async (input) => {
  record('start');
  const result = await vm.uploadStack(input);
  record('done');
  return result;
};
runWorkerProcess({ address, taskQueues: { shared: queue }, activities: { ...fakeActivities().activities, uploadStack }, bundlePath });
