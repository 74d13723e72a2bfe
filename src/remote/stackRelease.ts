import { posix } from 'node:path';
import { containerImages, dockerTag, projectContainers, type StackRef } from '../docker/compose';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { inStack, SECRETS_ENV_FILE, stackRef } from './stackDir';

/**
 * A redeploy changes nothing on a VM until its images are pulled: uploadStack writes the new stack
 * into STAGED_DIR, composeUp pulls it from there, then swaps it in, keeping the stack it replaces
 * (files, the images its containers ran, the devcontainer-commands record) in PREVIOUS_DIR under
 * this run's release id. rollbackStack puts that stack back; only the run that made the backup can.
 */
export const STAGED_DIR = '.staged';
export const PREVIOUS_DIR = '.previous';
/**
 * In the stack folder: the digest of the workspace seed whose stack files the release holds
 * (seedWorkspace). Removed with those files by a swap or a restore that does not bring its own.
 */
export const SEED_MARK = '.seed';
/** `--sync-workspace`'s tar of the local files, applied to the workspace copy at the swap. */
export const WORKSPACE_SYNC_TAR = 'workspace.tar';

/** What the swapped-out stack ran: restored by a rollback (a pull may have moved the tags since). */
export interface PreviousStack {
  containers: { id: string; service: string; image: string; imageId: string }[];
}

/** Beside the staged compose.yaml: its services' images only, what `compose pull` needs. */
export const PULL_FILE = 'pull.yaml';
/** Beside the staged compose.yaml: the services that start before the swap (src/remote/earlyStart.ts). */
export const EARLY_FILE = 'early.yaml';

/**
 * The staged release's images as Compose pulls them. The staged compose.yaml itself cannot be
 * loaded before the swap: its env files and other paths point at the live folder, where they are
 * not yet.
 */
export function stagedPullRef(plan: DeployPlan): StackRef {
  return stagedRef(plan, PULL_FILE);
}

/** The stack's compose project read from a file of the staged release, with the staged secrets. */
export function stagedRef(plan: DeployPlan, file: string): StackRef & { file: string } {
  const live = stackRef(plan);
  const staged = posix.join(live.dir, STAGED_DIR);
  return { ...live, file: posix.join(staged, file), ...(live.envFile ? { envFile: posix.join(staged, SECRETS_ENV_FILE) } : {}) };
}

/** The pull file of a compose document: each service with its image, platform and pull policy. */
export function pullDocument(compose: Record<string, unknown>): Record<string, unknown> {
  const services = (compose.services ?? {}) as Record<string, Record<string, unknown>>;
  const pick = (service: Record<string, unknown>) => Object.fromEntries(['image', 'platform', 'pull_policy'].filter((k) => service[k] !== undefined).map((k) => [k, service[k]]));
  return { ...(compose.name ? { name: compose.name } : {}), services: Object.fromEntries(Object.entries(services).map(([name, s]) => [name, pick(s)])) };
}

export async function hasStagedRelease(session: SshSession, plan: DeployPlan): Promise<boolean> {
  return (await session.exec(['test', '-f', stagedPullRef(plan).file!])).exitCode === 0;
}

export function workspaceDir(plan: DeployPlan): string {
  return plan.stack.workspace ? inStack(stackRef(plan).dir, plan.stack.workspace.target) : '';
}

// $1 stack folder, $2 release, $3 workspace copy (or ''), $4 PreviousStack as JSON, $5 owner of the
// workspace files (the SSH user). Run as root: containers may have written root-owned files there.
// Each step can be run again after a crash: the backup is complete once `release` is written, and
// an attempt that finds it made by this release goes on from the swap.
const SWAP = `set -eu
cd "$1"
[ -d ${STAGED_DIR} ] || exit 0
if [ "$(cat ${PREVIOUS_DIR}/release 2>/dev/null || true)" != "$2" ]; then
  rm -rf ${PREVIOUS_DIR}.new && mkdir ${PREVIOUS_DIR}.new
  for f in compose.yaml ${SECRETS_ENV_FILE} env files .devcontainer-commands.json; do
    if [ -e "$f" ]; then cp -a "$f" ${PREVIOUS_DIR}.new/; fi
  done
  if [ -f ${STAGED_DIR}/${WORKSPACE_SYNC_TAR} ] && [ -n "$3" ]; then cp -a "$3" ${PREVIOUS_DIR}.new/workspace; fi
  printf '%s' "$4" > ${PREVIOUS_DIR}.new/stack.json
  printf '%s' "$2" > ${PREVIOUS_DIR}.new/release
  rm -rf ${PREVIOUS_DIR} && mv ${PREVIOUS_DIR}.new ${PREVIOUS_DIR}
fi
if [ -f ${STAGED_DIR}/${WORKSPACE_SYNC_TAR} ]; then
  if [ -n "$3" ]; then
    tar -x --no-same-owner -C "$3" -f ${STAGED_DIR}/${WORKSPACE_SYNC_TAR}
    tar -tf ${STAGED_DIR}/${WORKSPACE_SYNC_TAR} | (cd "$3" && xargs -r -d '\\n' chown -h -- "$5")
  fi
  rm -f ${STAGED_DIR}/${WORKSPACE_SYNC_TAR}
fi
rm -rf compose.yaml ${SECRETS_ENV_FILE} env files ${SEED_MARK} ${STAGED_DIR}/${PULL_FILE} ${STAGED_DIR}/${EARLY_FILE}
find ${STAGED_DIR} -mindepth 1 -maxdepth 1 -exec mv -t . {} +
rmdir ${STAGED_DIR}
`;

/** Swaps the staged release in (a no-op when an earlier attempt did); returns the project's containers, which it leaves as they are. */
export async function swapInStaged(session: SshSession, plan: DeployPlan, release: string): Promise<PreviousStack> {
  const previous = await runningStack(session, plan);
  await session.run(['sh', '-c', SWAP, 'sh', stackRef(plan).dir, release, workspaceDir(plan), JSON.stringify(previous), session.user], { root: true });
  return previous;
}

// $1 stack folder, $2 release, $3 workspace copy (or ''). Prints what it found.
const RESTORE = `set -eu
cd "$1"
[ "$(cat ${PREVIOUS_DIR}/release 2>/dev/null || true)" = "$2" ] || { echo not-ours; exit 0; }
[ "$(cat ${PREVIOUS_DIR}/rolled-back 2>/dev/null || true)" != "$2" ] || { echo rolled-back; exit 0; }
[ -f ${PREVIOUS_DIR}/compose.yaml ] || { echo no-stack; exit 0; }
rm -rf ${STAGED_DIR} compose.yaml ${SECRETS_ENV_FILE} env files ${SEED_MARK}
for f in compose.yaml ${SECRETS_ENV_FILE} env files; do
  if [ -e "${PREVIOUS_DIR}/$f" ]; then cp -a "${PREVIOUS_DIR}/$f" .; fi
done
if [ -d ${PREVIOUS_DIR}/workspace ] && [ -n "$3" ]; then
  find "$3" -mindepth 1 -delete
  cp -a ${PREVIOUS_DIR}/workspace/. "$3"/
fi
echo restored
`;

export type RestoreOutcome = 'restored' | 'rolled-back' | 'no-stack' | 'not-ours';

/** The previous release's files (and workspace copy) back in place; the caller starts them. */
export async function restorePrevious(session: SshSession, plan: DeployPlan, release: string): Promise<{ outcome: RestoreOutcome; previous?: PreviousStack }> {
  const dir = stackRef(plan).dir;
  const outcome = (await session.run(['sh', '-c', RESTORE, 'sh', dir, release, workspaceDir(plan)], { root: true })).stdout.trim() as RestoreOutcome;
  if (outcome !== 'restored') return { outcome };
  const previous = JSON.parse((await session.run(['cat', '--', posix.join(dir, PREVIOUS_DIR, 'stack.json')])).stdout) as PreviousStack;
  // The images the previous containers ran get their names back, so `up` recreates nothing new.
  for (const c of previous.containers) await session.exec(dockerTag(c.imageId, c.image), { root: true });
  return { outcome, previous };
}

export async function markRolledBack(session: SshSession, plan: DeployPlan, release: string): Promise<void> {
  // The backup folder is root's (see SWAP).
  await session.run(['tee', '--', posix.join(stackRef(plan).dir, PREVIOUS_DIR, 'rolled-back')], { input: release, root: true });
}

/** The devcontainer-commands record as it was before the swap ('' when there was none). */
export async function previousCommandsRecord(session: SshSession, plan: DeployPlan): Promise<string> {
  return (await session.exec(['cat', '--', posix.join(stackRef(plan).dir, PREVIOUS_DIR, '.devcontainer-commands.json')])).stdout;
}

async function runningStack(session: SshSession, plan: DeployPlan): Promise<PreviousStack> {
  const ids = (await session.run(projectContainers(plan.stack.projectName), { root: true })).stdout.split('\n').filter(Boolean);
  if (ids.length === 0) return { containers: [] };
  const lines = (await session.run(containerImages(ids), { root: true })).stdout.split('\n').filter(Boolean);
  return {
    containers: lines.map((line) => {
      const [id, service, image, imageId] = line.split(' ');
      return { id, service, image, imageId };
    }),
  };
}
