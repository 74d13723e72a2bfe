import { posix } from 'node:path';
import { stringify } from 'yaml';
import { imageInspectArgv } from '../docker/image';
import { ImageStartConfig, withImageEntrypoint } from '../spec/compose-entrypoint';
import { remoteStackDir } from '../spec/compose-mounts';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';

/**
 * The live compose.yaml rewritten with the pulled primary image's ENTRYPOINT (and CMD) after its
 * features' wrapper (StackPlan.imageEntrypoint). Read on the VM, after the pull: the compose file
 * may be uploaded while the image is still building. Written from the plan, so a retry writes the same.
 */
export async function applyImageEntrypoint(session: SshSession, plan: DeployPlan): Promise<void> {
  const need = plan.stack.imageEntrypoint;
  if (!need) return;
  const primary = (plan.stack.compose.services as Record<string, { image: string }>)[plan.stack.primaryService];
  const inspected = await session.run(imageInspectArgv(primary.image, '{{json .Config}}'), { root: true });
  const config = JSON.parse(inspected.stdout) as ImageStartConfig;
  const compose = withImageEntrypoint(plan.stack.compose, plan.stack.primaryService, need, config);
  await session.upload(posix.join(remoteStackDir(plan.stack.projectName), 'compose.yaml'), stringify(compose));
}
