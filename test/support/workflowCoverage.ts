import { join, sep } from 'node:path';
import { WorkflowCoverage } from '@temporalio/nyc-test-coverage';
import { type BundleOptions, Worker, type WorkerOptions } from '@temporalio/worker';

/**
 * Workflow code runs from a webpack bundle in the worker's sandbox, where Jest's instrumentation
 * never reaches. Under `npm run coverage` (a `__coverage__` global exists), the SDK's own support
 * instruments the bundle and sends what each workflow ran back through a sink; every worker a test
 * file creates (the product's createWorker included, unchanged) gets that sink, and the file's
 * coverage is merged into Jest's when it ends. Without coverage, nothing here changes anything.
 */
const workflowCoverage = new WorkflowCoverage();
const coverageOn = () => '__coverage__' in globalThis;
const SRC = join(__dirname, '..', '..', 'src') + sep;

/** Bundle options that instrument the workflow code when coverage is on. */
export function withWorkflowCoverage(options: BundleOptions): BundleOptions {
  return coverageOn() ? workflowCoverage.augmentBundleOptions(options) : options;
}

const create = Worker.create.bind(Worker);
Worker.create = (options: WorkerOptions) => {
  const { workflowBundle, workflowsPath } = options;
  if (!coverageOn()) return create(options);
  if (workflowBundle) return create(workflowCoverage.augmentWorkerOptionsWithBundle({ ...options, workflowBundle }));
  if (workflowsPath) return create(workflowCoverage.augmentWorkerOptions({ ...options, workflowsPath }));
  return create(options); // activities only
};

afterAll(() => {
  if (!coverageOn()) return;
  workflowCoverage.mergeIntoGlobalCoverage();
  // The merge leaves FileCoverage objects of this file's module registry, which Jest's own copy of
  // istanbul does not recognise as its class: hand Jest plain data, of src/ only (a test's own
  // workflows, bundled the same way, are not the product).
  const global = globalThis as { __coverage__?: Record<string, unknown> };
  const merged = JSON.parse(JSON.stringify(global.__coverage__)) as Record<string, unknown>;
  global.__coverage__ = Object.fromEntries(Object.entries(merged).filter(([file]) => file.startsWith(SRC)));
});
