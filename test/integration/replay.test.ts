import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { HISTORIES_DIR, workflowBundle } from '../support/temporalHarness';

jest.setTimeout(120_000);

// Recorded by the workflow tests (KAMAL_DEV_RECORD_HISTORIES=1) and committed: every change to
// the workflows must still replay them, or running deploys would break on upgrade.
function histories() {
  return readdirSync(HISTORIES_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const { workflowId, history } = JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8'));
      return { file, workflowId: workflowId as string, history: historyFromJSON(history) };
    });
}

async function replay(bundle: Awaited<ReturnType<typeof workflowBundle>>) {
  const errors: { file: string; error: string }[] = [];
  const all = histories();
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, all)) {
    const file = all.find((h) => h.workflowId === result.workflowId)?.file ?? result.workflowId;
    if (result.error) errors.push({ file, error: result.error.name });
  }
  return errors;
}

describe('replay of recorded histories', () => {
  it('has histories of deploys, failures and cancellations', () => {
    expect(histories().map((h) => h.file)).toEqual(
      expect.arrayContaining(['deploy-3-vms.json', 'deploy-cancelled.json', 'workspace-compensated.json', 'workspace-cancelled.json', 'workspace-redeploy-keeps-found-vm.json']),
    );
  });

  it('replays every recorded history with the current workflow code', async () => {
    expect(await replay(await workflowBundle())).toEqual([]);
  });

  it('fails when a change breaks determinism', async () => {
    const broken = await bundleWorkflowCode({ workflowsPath: require.resolve('../support/workflows/reordered'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } });
    const errors = await replay(broken);
    expect(errors.map((e) => e.file)).toEqual(expect.arrayContaining(['deploy-3-vms.json', 'deploy-cancelled.json']));
    expect(errors.every((e) => e.error === 'DeterminismViolationError')).toBe(true);
  });
});
