import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { stringify } from 'yaml';
import { pipeToRemote } from '../docker/pipe';
import { ENV_FILES_FOLDER } from '../spec/compose';
import { remoteStackDir as stackDir } from '../spec/compose-mounts';
import type { DeployPlan, WorkspacePlan } from '../spec/plan';
import { workspaceSelection } from '../spec/workspace-files';
import type { SshSession } from '../ssh/session';
import { envFileContent, inStack, SECRETS_ENV_FILE } from './stackDir';
import { PULL_FILE, pullDocument, STAGED_DIR, WORKSPACE_SYNC_TAR } from './stackRelease';

/** What happened to the workspace copy on the VM. */
export type WorkspaceUpload = 'seeded' | 'kept' | 'staged for sync';

export interface UploadProgress {
  bytes: number;
  totalBytes: number;
}

export interface UploadResult {
  stackDir: string;
  workspace?: WorkspaceUpload;
  /** Bytes of workspace files sent. */
  bytes: number;
}

/**
 * Everything the stack needs on the VM, staged in /opt/kamal-dev/<project>/.staged (composeUp
 * swaps it in), and the workspace copy: seeded when the VM has none, else kept, or with `sync`
 * staged as a tar that the swap applies. With `fromSeed` only what the plan itself holds (compose
 * and pull files, the secrets file): the stack's files and the workspace come with the seed.
 */
export async function uploadStackTo(
  session: SshSession,
  plan: DeployPlan,
  secretValues: Record<string, string>,
  onProgress: (progress: UploadProgress) => void,
  options: { fromSeed?: boolean } = {},
): Promise<UploadResult> {
  const dir = stackDir(plan.stack.projectName);
  const staged = posix.join(dir, STAGED_DIR);
  await session.run(['mkdir', '-p', '--', dir], { root: true });
  // The SSH user writes the files over SFTP; docker (through sudo) only reads them.
  if (session.user !== 'root') await session.run(['chown', '--', session.user, dir], { root: true });
  await session.run(['rm', '-rf', '--', staged], { root: true });
  await session.run(['mkdir', '--', staged]);

  await session.upload(posix.join(staged, 'compose.yaml'), stringify(plan.stack.compose));
  await session.upload(posix.join(staged, PULL_FILE), stringify(pullDocument(plan.stack.compose)));
  if (plan.stack.secrets.length > 0) {
    await session.upload(posix.join(staged, SECRETS_ENV_FILE), envFileContent(secretValues), 0o600);
  }
  // The project's own files come from the workspace seed (seedWorkspace), not from this machine.
  if (options.fromSeed) return { stackDir: dir, bytes: 0 };
  for (const file of plan.stack.files) {
    const target = inStack(staged, file.target);
    await session.run(['mkdir', '-p', '--', posix.dirname(target)]);
    // Compose reads env files (as root); a container may read the others through a bind mount.
    const mode = file.target.startsWith(`${ENV_FILES_FOLDER}/`) ? 0o600 : statSync(file.source).mode & 0o777;
    await session.upload(target, readFileSync(file.source), mode);
  }
  const workspace = plan.stack.workspace;
  if (!workspace) return { stackDir: dir, bytes: 0 };
  return { stackDir: dir, ...(await uploadWorkspace(session, workspace, inStack(dir, workspace.target), posix.join(staged, WORKSPACE_SYNC_TAR), onProgress)) };
}

async function uploadWorkspace(
  session: SshSession,
  workspace: WorkspacePlan,
  target: string,
  syncTar: string,
  onProgress: (progress: UploadProgress) => void,
): Promise<{ workspace: WorkspaceUpload; bytes: number }> {
  const seeded = (await session.exec(['test', '-d', target])).exitCode === 0;
  if (seeded && !workspace.sync) return { workspace: 'kept', bytes: 0 };

  const selection = await workspaceSelection(workspace.source, workspace);
  const listDir = mkdtempSync(join(tmpdir(), 'kamal-dev-upload-'));
  const list = join(listDir, 'files');
  writeFileSync(list, selection.paths.map((p) => `${p}\0`).join(''));
  const progress: UploadProgress = { bytes: 0, totalBytes: selection.bytes };
  const tar = ['tar', '-C', workspace.source, '--null', '-T', list, '-cf', '-'];
  const onBytes = (n: number) => {
    progress.bytes += n;
    onProgress(progress);
  };
  try {
    if (seeded) {
      await pipeToRemote(tar, session, ['dd', `of=${syncTar}`, 'bs=1M', 'status=none'], { onBytes });
      return { workspace: 'staged for sync', bytes: progress.bytes };
    }
    // Extracted beside the target and renamed when complete: a copy cut off halfway is never taken for a seeded one.
    const seeding = posix.join(posix.dirname(target), `.${posix.basename(target)}.seeding`);
    await session.run(['rm', '-rf', '--', seeding], { root: true });
    await session.run(['mkdir', '-p', '--', seeding]);
    await pipeToRemote(tar, session, ['tar', '-x', '--no-same-owner', '-C', seeding, '-f', '-'], { onBytes });
    await session.run(['mv', '-T', '--', seeding, target]);
    return { workspace: 'seeded', bytes: progress.bytes };
  } finally {
    rmSync(listDir, { recursive: true, force: true });
  }
}
