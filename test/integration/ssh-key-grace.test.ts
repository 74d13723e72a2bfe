import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createVmActivities } from '../../src/activities/vm';
import type { VmHandle } from '../../src/domain/vm';
import { toActivityFailure } from '../../src/activities/failures';
import { sh } from '../lab/exec';
import { describeWithLab } from '../support/lab';
import { destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(180_000);

/**
 * A real local VM whose sshd refuses the key it is asked with (a key the VM was not made with).
 * Only a VM this run created is given the grace in which cloud-init may still install the key.
 */
describeWithLab(['vmImage'], 'waitForSsh when the VM refuses the SSH key', () => {
  const service = `vms-grace-${process.pid}`;
  const activities = createVmActivities({ resolveSecret: async (name) => name });
  let refusedKey: ReturnType<typeof testPlan>;
  let found: VmHandle;

  beforeAll(async () => {
    const project = await testProject('grace');
    const made = testPlan({ projectDir: project.dir, keyPath: project.keyPath, service });
    await activities.provisionVm({ plan: made, vm: { deployment: service, name: `${service}-1`, index: 1 }, createdBy: 'first-run' });
    const otherKey = join(project.dir, 'keys', 'other_ed25519');
    await sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', otherKey]);
    // The same project (identity), asking with a key this VM was not made with: a redeploy finds it.
    refusedKey = testPlan({ projectDir: project.dir, keyPath: otherKey, service });
    found = await activities.provisionVm({ plan: refusedKey, vm: { deployment: service, name: `${service}-1`, index: 1 }, createdBy: 'second-run' });
  });

  afterAll(async () => {
    await activities.close();
    await destroyDeployment(service);
  });

  /** One attempt as Temporal runs it: scheduled now, cut off by its start-to-close timeout. */
  const attempt = (vm: VmHandle) =>
    new MockActivityEnvironment({ scheduledTimestampMs: Date.now(), startToCloseTimeoutMs: 8_000, attempt: 1 })
      .run(activities.waitForSsh, { plan: refusedKey, vm })
      .then(() => undefined, (error: unknown) => toActivityFailure(error));

  it('a VM this run found fails at once with a non-retryable failure that says it was found', async () => {
    expect(found.created).toBe(false);
    const failure = await attempt(found);
    expect(failure).toMatchObject({ type: 'SshAuthFailed', nonRetryable: true });
    expect(failure?.message).toMatch(new RegExp(`^${service}-1 was already there \\(this deploy found it, it did not create it\\) and root@\\S+ refused the SSH key ${refusedKey.ssh.keyPath}$`));
  });

  it('a VM this run created is tried again: its attempt ends retryable, within the 3-minute grace', async () => {
    const failure = await attempt({ ...found, created: true });
    expect(failure).toMatchObject({ type: 'SshAuthFailed', nonRetryable: false });
    expect(failure?.message).toContain('refused the SSH key');
  });
});
