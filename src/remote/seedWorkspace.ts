import { posix } from 'node:path';
import { SEED_STACK_DIR, SEED_WORKSPACE_DIR } from '../images/seed-layer';
import type { DeployPlan, WorkspaceSeed } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { withDockerConfig } from './registryAccess';
import { stackRef } from './stackDir';
import { SEED_MARK, STAGED_DIR, WORKSPACE_SYNC_TAR, workspaceDir } from './stackRelease';
import type { WorkspaceUpload } from './upload';

// $1 seed image, $2 container name, $3 staged folder, $4 what to do with the workspace (seed | sync | keep),
// $5 workspace copy, $6 owner of the files (the SSH user), $7 1 when the seed has stack files, $8 the seed's
// digest (kept beside the stack files it brought, see SEED_MARK). Run as root.
// The seed's container is never started; it and the pulled image go once the files are out.
// Seeding extracts beside the copy and renames it into place: a copy cut off halfway is never taken
// for a seeded one, and an existing copy is never written to except by `sync`'s staged tar.
const UNPACK = `set -eu
image=$1 name=$2 staged=$3 mode=$4 target=$5 owner=$6
docker rm -f "$name" >/dev/null 2>&1 || true
docker create --name "$name" --label kamal-dev.seed=1 "$image" /seed >/dev/null
tmp=""
trap 'docker rm -f "$name" >/dev/null 2>&1 || true; docker rmi "$image" >/dev/null 2>&1 || true; [ -z "$tmp" ] || rm -rf "$tmp"' EXIT
if [ "$7" = 1 ]; then
  docker cp "$name:/${SEED_STACK_DIR}/." "$staged/"
  chown -R -h "$owner" "$staged"
  printf '%s' "$8" > "$staged/${SEED_MARK}"
fi
case "$mode" in
seed)
  seeding="$(dirname "$target")/.$(basename "$target").seeding"
  rm -rf "$seeding"
  if [ ! -d "$(dirname "$target")" ]; then mkdir -p "$(dirname "$target")" && chown "$owner" "$(dirname "$target")"; fi
  docker cp "$name:/${SEED_WORKSPACE_DIR}" "$seeding"
  chown -R -h "$owner" "$seeding"
  mv -T "$seeding" "$target" ;;
sync)
  tmp=$(mktemp -d)
  docker cp "$name:/${SEED_WORKSPACE_DIR}/." "$tmp/"
  # Files and links only, as uploadStack's tar: the copy's folders keep their own modes.
  (cd "$tmp" && find . -mindepth 1 \\( -type f -o -type l \\) -printf '%P\\0' | tar --null -T - -cf "$staged/${WORKSPACE_SYNC_TAR}") ;;
esac
`;

// $1 live stack folder, $2 staged folder, $3 the seed's digest, then the stack files' paths. Run as root.
// Copies the live release's stack files when that release brought them from this very seed.
const REUSE = `set -eu
live=$1 staged=$2 digest=$3
shift 3
[ "$(cat "$live/${SEED_MARK}" 2>/dev/null || true)" = "$digest" ] || { echo pull; exit 0; }
for f; do [ -e "$live/$f" ] || { echo pull; exit 0; }; done
for f; do mkdir -p "$staged/$(dirname "$f")" && cp -a "$live/$f" "$staged/$f"; done
printf '%s' "$digest" > "$staged/${SEED_MARK}"
echo reused
`;

/**
 * A redeploy whose seed is the one the live release came with (unchanged workspace and stack files)
 * stages the live release's stack files again instead of pulling the seed: no tunnel, no pull. True
 * when that is all the seed step has to do (the workspace copy is kept).
 */
export async function reuseLiveSeed(session: SshSession, plan: DeployPlan, seed: WorkspaceSeed): Promise<boolean> {
  if ((await seedModeOf(session, plan)) !== 'keep' || plan.stack.files.length === 0) return false;
  const live = stackRef(plan).dir;
  const argv = ['sh', '-c', REUSE, 'sh', live, posix.join(live, STAGED_DIR), seed.digest, ...plan.stack.files.map((f) => f.target)];
  return (await session.run(argv, { root: true })).stdout.trim() === 'reused';
}

/** seed: the VM has no workspace copy yet; sync: `--sync-workspace` over the one it has; keep: the copy stays as it is. */
async function seedModeOf(session: SshSession, plan: DeployPlan): Promise<'seed' | 'sync' | 'keep'> {
  const workspace = plan.stack.workspace;
  if (!workspace) return 'keep';
  if ((await session.exec(['test', '-d', workspaceDir(plan)])).exitCode !== 0) return 'seed';
  return workspace.sync ? 'sync' : 'keep';
}

/**
 * The seed's stack files into the staged release, and its workspace copy: seeded when the VM has
 * none, else kept, or with `sync` staged as the tar that the swap applies (the same semantics as
 * uploadStack's tar over SSH, with the files coming from the registry instead of this machine).
 */
export async function seedWorkspaceOn(
  session: SshSession,
  plan: DeployPlan,
  seed: WorkspaceSeed,
  options: { dockerConfig?: string; onLine: () => void },
): Promise<{ workspace?: WorkspaceUpload }> {
  const target = workspaceDir(plan);
  const workspace = plan.stack.workspace;
  const mode = await seedModeOf(session, plan);
  const hasFiles = plan.stack.files.length > 0;
  if (mode === 'keep' && !hasFiles) return workspace ? { workspace: 'kept' } : {};
  await session.run(withDockerConfig(options.dockerConfig, ['docker', 'pull', '--quiet', seed.image]), { root: true, onLine: options.onLine });
  const staged = posix.join(stackRef(plan).dir, STAGED_DIR);
  const name = `kamal-dev-seed-${plan.stack.projectName}`;
  await session.run(['sh', '-c', UNPACK, 'sh', seed.image, name, staged, mode, target, session.user, hasFiles ? '1' : '0', seed.digest], { root: true });
  if (!workspace) return {};
  return { workspace: mode === 'seed' ? 'seeded' : mode === 'sync' ? 'staged for sync' : 'kept' };
}
