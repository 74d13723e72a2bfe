import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../docker/runner';

/** vm/ ships with the package (package.json "files"): src/providers and dist/providers both sit two levels below it. */
export const VM_IMAGE_DIR = join(__dirname, '..', '..', 'vm');
export const DEFAULT_BASE_IMAGE = 'debian:bookworm-slim';
export const VM_IMAGE_LABEL = 'kamal-dev.vm-image';

/** The tag names the content (Dockerfile, entrypoint, base), so a changed image is rebuilt, never reused. */
export function vmImageTag(baseImage = DEFAULT_BASE_IMAGE): string {
  const hash = createHash('sha256');
  for (const file of ['Dockerfile', 'entrypoint.sh']) hash.update(readFileSync(join(VM_IMAGE_DIR, file)));
  hash.update(baseImage);
  return `kamal-dev/vm:${hash.digest('hex').slice(0, 12)}`;
}

export function vmImageBuildArgv(tag: string, baseImage: string): string[] {
  return ['docker', 'build', '--quiet', '--build-arg', `BASE_IMAGE=${baseImage}`, '--label', `${VM_IMAGE_LABEL}=true`, '--tag', tag, VM_IMAGE_DIR];
}

const building = new Map<string, Promise<string>>();

/** Builds the VM image when it is missing; returns its tag. */
export function ensureVmImage(baseImage = DEFAULT_BASE_IMAGE): Promise<string> {
  const tag = vmImageTag(baseImage);
  let pending = building.get(tag);
  if (!pending) {
    pending = (async () => {
      const present = await run(['docker', 'image', 'inspect', '--format', '{{.Id}}', tag]).then(
        () => true,
        () => false,
      );
      if (!present) await run(vmImageBuildArgv(tag, baseImage));
      return tag;
    })();
    pending.catch(() => building.delete(tag));
    building.set(tag, pending);
  }
  return pending;
}
