import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, createWriteStream, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { run } from '../docker/runner';
import { ENV_FILES_FOLDER } from '../spec/compose';
import type { StackPlan } from '../spec/plan';
import { workspaceSelection } from '../spec/workspace-files';

/** Where the seed image keeps the workspace copy and the stack's files (env files, secrets/configs files). */
export const SEED_WORKSPACE_DIR = 'workspace';
export const SEED_STACK_DIR = 'stack';

export interface SeedLayer {
  /** The gzipped tar, in `dir` (the caller removes it). */
  file: string;
  dir: string;
  /** sha256 of the gzipped tar (the blob) and of the tar itself (the image config's diff_id). */
  digest: string;
  diffId: string;
  size: number;
  /** Workspace bytes and files in it (the sum of their sizes, as `--sync-workspace` counts them). */
  workspaceBytes: number;
  files: number;
}

// Same tree, same bytes: names sorted, owners zeroed, GNU headers (no pax headers naming a pid),
// gzip without a timestamp (Node's zlib writes none). Files keep their modes and mtimes.
const REPRODUCIBLE = ['--format=gnu', '--sort=name', '--owner=0', '--group=0', '--numeric-owner'];

/**
 * The image's one layer: the workspace selection (exactly what uploadStack would send) under
 * SEED_WORKSPACE_DIR and the stack's files under SEED_STACK_DIR/<target>, with `.kamal/` never in it.
 */
export async function seedLayer(stack: StackPlan, signal?: AbortSignal): Promise<SeedLayer> {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-seed-'));
  const tar = join(dir, 'layer.tar');
  let workspaceBytes = 0;
  let files = 0;
  if (stack.workspace) {
    const selection = await workspaceSelection(stack.workspace.source, stack.workspace);
    const list = join(dir, 'files');
    writeFileSync(list, selection.paths.map((p) => `${p}\0`).join(''));
    const transform = `--transform=s,^,${SEED_WORKSPACE_DIR}/,`;
    await run(['tar', ...REPRODUCIBLE, transform, '-C', stack.workspace.source, '--null', '-T', list, '-cf', tar], { signal });
    workspaceBytes = selection.bytes;
    files = selection.paths.length;
  }
  if (stack.files.length > 0) {
    // Staged under their stack targets, then appended with one fixed mtime: the copy's own times say nothing.
    const staged = join(dir, 'staged');
    for (const file of stack.files) {
      const target = join(staged, SEED_STACK_DIR, file.target);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(file.source, target);
      // As uploadStack writes them: Compose reads env files (as root); a container may read the others through a bind mount.
      chmodSync(target, file.target.startsWith(`${ENV_FILES_FOLDER}/`) ? 0o600 : statSync(file.source).mode & 0o777);
    }
    await run(['tar', ...REPRODUCIBLE, '--mtime=@0', '-C', staged, stack.workspace ? '-rf' : '-cf', tar, SEED_STACK_DIR], { signal });
  }
  const file = join(dir, 'layer.tar.gz');
  const tarHash = createHash('sha256');
  const gzHash = createHash('sha256');
  let size = 0;
  const hashing = (hash: ReturnType<typeof createHash>, count?: (n: number) => void) =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        count?.(chunk.length);
        done(null, chunk);
      },
    });
  await pipeline(createReadStream(tar), hashing(tarHash), createGzip(), hashing(gzHash, (n) => (size += n)), createWriteStream(file), { signal });
  return { file, dir, digest: `sha256:${gzHash.digest('hex')}`, diffId: `sha256:${tarHash.digest('hex')}`, size, workspaceBytes, files };
}
