import type { BuiltImage } from '../domain/images';
import { imageInspectArgv } from '../docker/image';
import { run } from '../docker/runner';
import type { DeployPlan } from '../spec/plan';
import { ImageError } from './errors';
import { requireLastBuild } from './last-build';

/** The id of a local image, or undefined when the engine does not have it. */
export async function localImageId(ref: string): Promise<string | undefined> {
  try {
    return (await run(imageInspectArgv(ref))).stdout.trim();
  } catch {
    return undefined;
  }
}

/** Every built image is still in the local engine (push and --skip-push transfer read them from there). */
export async function requireLocalImages(images: BuiltImage[]): Promise<void> {
  for (const built of images) {
    if ((await localImageId(built.imageId)) === undefined) {
      throw new ImageError('NoRecordedBuild', 'state', `the image built for service ${built.service} (${built.image}) is no longer in the local Docker engine`, {
        description: 'Build it again: `kamal-dev build`, or deploy without --skip-build.',
      });
    }
  }
}

/** --skip-build: the images of the last build of the plan's tag, checked before any VM is made. */
export async function recordedImages(plan: DeployPlan): Promise<BuiltImage[]> {
  const { images } = requireLastBuild(plan.projectDir, plan.tag);
  await requireLocalImages(images);
  return images;
}
