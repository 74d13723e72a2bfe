import { readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { stringify } from 'yaml';
import { pipeToRemote } from '../docker/pipe';
import { ENV_FILES_FOLDER } from '../spec/compose';
import { remoteStackDir as stackDir } from '../spec/compose-mounts';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { envFileContent, inStack, SECRETS_ENV_FILE } from './stackDir';

/** Never copied with the workspace: .kamal holds the secrets file, SSH keys and state. */
const ALWAYS_EXCLUDED = ['.kamal'];

/** Everything the stack needs on the VM, in /opt/kamal-dev/<project>; returns that folder. */
export async function uploadStackTo(
  session: SshSession,
  plan: DeployPlan,
  secretValues: Record<string, string>,
  onProgress: () => void,
): Promise<string> {
  const dir = stackDir(plan.stack.projectName);
  await session.run(['mkdir', '-p', '--', dir], { root: true });
  // The SSH user writes the files over SFTP; docker (through sudo) only reads them.
  if (session.user !== 'root') await session.run(['chown', '--', session.user, dir], { root: true });

  await session.upload(posix.join(dir, 'compose.yaml'), stringify(plan.stack.compose));
  for (const file of plan.stack.files) {
    const target = inStack(dir, file.target);
    await session.run(['mkdir', '-p', '--', posix.dirname(target)]);
    // Compose reads env files (as root); a container may read the others through a bind mount.
    const mode = file.target.startsWith(`${ENV_FILES_FOLDER}/`) ? 0o600 : statSync(file.source).mode & 0o777;
    await session.upload(target, readFileSync(file.source), mode);
    onProgress();
  }
  if (plan.stack.secrets.length > 0) {
    await session.upload(posix.join(dir, SECRETS_ENV_FILE), envFileContent(secretValues), 0o600);
  }
  const workspace = plan.stack.workspace;
  if (workspace) {
    const target = inStack(dir, workspace.target);
    await session.run(['mkdir', '-p', '--', target]);
    const excludes = [...ALWAYS_EXCLUDED, ...workspace.exclude].map((pattern) => `--exclude=${pattern}`);
    await pipeToRemote(['tar', '-C', workspace.source, ...excludes, '-cf', '-', '.'], session, [
      'tar', '-x', '--no-same-owner', '-C', target, '-f', '-',
    ]);
    onProgress();
  }
  return dir;
}
