import type { BuiltImage, PushedImage } from '../domain/images';
import { imageInspectArgv, pushArgv, tagArgv, untagArgv } from '../docker/image';
import { parsePushLine, PushEvent } from '../docker/push-progress';
import { CommandFailedError, run } from '../docker/runner';
import { ensureLocalRegistry } from '../registry/local';
import { RegistryCredentials, verifyManifest } from '../registry/manifest';
import type { DeployPlan, RegistryPlan } from '../spec/plan';
import { registryCredentials, ResolveSecret } from './credentials';
import { ImageError } from './errors';
import { localImageId, requireLocalImages } from './recorded';
import { registryFailure, withRegistryLogin } from './login';

export interface PushImagesOptions {
  resolveSecret: ResolveSecret;
  /** Keep a local tag this push created even when the push fails. */
  keep?: boolean;
  /** Image of the local registry container, when one has to be started. */
  localRegistryImage?: string;
  onEvent?: (image: string, event: PushEvent) => void;
  signal?: AbortSignal;
}

/** Pushes built images to the plan's registry and proves each one landed (manifest digest). */
export async function pushImages(plan: DeployPlan, images: BuiltImage[], options: PushImagesOptions): Promise<PushedImage[]> {
  const credentials = registryCredentials(plan, options.resolveSecret);
  await requireLocalImages(images);
  if (plan.registry.local) {
    await ensureLocalRegistry({ port: localPort(plan.registry), image: options.localRegistryImage, signal: options.signal });
  }
  return withRegistryLogin(plan.registry.server, credentials, options.signal, async (env) => {
    const pushed: PushedImage[] = [];
    for (const image of images) pushed.push(await pushOne(plan, image, credentials, env, options));
    return pushed;
  });
}

async function pushOne(
  plan: DeployPlan,
  built: BuiltImage,
  credentials: RegistryCredentials | undefined,
  env: Record<string, string>,
  options: PushImagesOptions,
): Promise<PushedImage> {
  // The plan says where the image goes now; the build may have named it differently (registry changed since).
  const build = plan.builds.find((b) => b.service === built.service);
  const target = build?.image ?? built.image;
  const createdTag = target !== built.image && (await localImageId(target)) !== built.imageId;
  if (createdTag) await run(tagArgv(built.imageId, target), { signal: options.signal });
  try {
    let digest: string | undefined;
    const size = Number((await run(imageInspectArgv(built.imageId, '{{.Size}}'), { signal: options.signal })).stdout.trim());
    if (Number.isFinite(size)) options.onEvent?.(target, { type: 'started', bytes: size });
    await run(pushArgv(target), {
      env,
      signal: options.signal,
      secrets: credentials ? [credentials.password] : [],
      onLine: (line) => {
        const event = parsePushLine(line);
        if (!event) return;
        if (event.type === 'pushed') digest = event.digest;
        options.onEvent?.(target, event);
      },
    }).catch((error) => {
      throw error instanceof CommandFailedError ? registryFailure(`pushing ${target}`, plan.registry.server, error) : error;
    });
    if (!digest) throw new ImageError('PushFailed', 'registry', `docker push ${target} reported no digest`, { retry: 'transient' });
    await verifyManifest(target, digest, credentials, options.signal);
    if (build?.cacheImage) await publishCache(target, build.cacheImage, env, options.signal);
    return { image: target, digest };
  } catch (error) {
    if (createdTag && !options.keep) await run(untagArgv(target)).catch(() => undefined);
    throw error;
  }
}

/** Same layers, so this push uploads nothing new; the local tag is only a means to it. */
async function publishCache(image: string, cacheImage: string, env: Record<string, string>, signal?: AbortSignal): Promise<void> {
  await run(tagArgv(image, cacheImage), { signal });
  try {
    await run(pushArgv(cacheImage), { env, signal });
  } finally {
    await run(untagArgv(cacheImage)).catch(() => undefined);
  }
}


function localPort(registry: RegistryPlan): number {
  const port = Number(registry.server.split(':')[1]);
  return Number.isInteger(port) && port > 0 ? port : 5555;
}
