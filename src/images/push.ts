import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuiltImage, PushedImage } from '../activities/types';
import { imageInspectArgv, pushArgv, tagArgv, untagArgv } from '../docker/image';
import { parsePushLine, PushEvent } from '../docker/push-progress';
import { classifyRegistryError, loginArgv } from '../docker/registry';
import { CommandFailedError, run } from '../docker/runner';
import { ensureLocalRegistry } from '../registry/local';
import { RegistryCredentials, verifyManifest } from '../registry/manifest';
import type { DeployPlan, RegistryPlan } from '../spec/plan';
import { registryCredentials, ResolveSecret } from './credentials';
import { ImageError } from './errors';

export interface PushImagesOptions {
  resolveSecret: ResolveSecret;
  /** Keep a local tag this push created even when the push fails. */
  keep?: boolean;
  /** Image of the local registry container, when one has to be started. */
  localRegistryImage?: string;
  onEvent?: (image: string, event: PushEvent) => void;
  signal?: AbortSignal;
}

/**
 * Pushes built images to the plan's registry and proves each one landed (manifest digest). Logs in
 * with a throwaway Docker config directory, so credentials never stay in ~/.docker and concurrent
 * pushes to different registries never see each other's logins.
 */
export async function pushImages(plan: DeployPlan, images: BuiltImage[], options: PushImagesOptions): Promise<PushedImage[]> {
  const credentials = registryCredentials(plan, options.resolveSecret);
  if (plan.registry.local) {
    await ensureLocalRegistry({ port: localPort(plan.registry), image: options.localRegistryImage, signal: options.signal });
  }
  const configDir = mkdtempSync(join(tmpdir(), 'kamal-dev-docker-config-'));
  const env = { DOCKER_CONFIG: configDir };
  try {
    if (credentials) await login(plan.registry.server, credentials, env, options.signal);
    const pushed: PushedImage[] = [];
    for (const image of images) pushed.push(await pushOne(plan, image, credentials, env, options));
    return pushed;
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
}

async function pushOne(
  plan: DeployPlan,
  built: BuiltImage,
  credentials: RegistryCredentials | undefined,
  env: Record<string, string>,
  options: PushImagesOptions,
): Promise<PushedImage> {
  // The plan says where the image goes now; the build may have named it differently (registry changed since).
  const target = plan.builds.find((b) => b.service === built.service)?.image ?? built.image;
  const createdTag = target !== built.image && (await localImageId(target)) !== built.imageId;
  if (createdTag) await run(tagArgv(built.imageId, target), { signal: options.signal });
  try {
    let digest: string | undefined;
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
    if (!digest) throw new ImageError('PushFailed', 'registry', `docker push ${target} reported no digest`, { retryable: true });
    await verifyManifest(target, digest, credentials, options.signal);
    return { image: target, digest };
  } catch (error) {
    if (createdTag && !options.keep) await run(untagArgv(target)).catch(() => undefined);
    throw error;
  }
}

async function login(server: string, credentials: RegistryCredentials, env: Record<string, string>, signal?: AbortSignal): Promise<void> {
  try {
    await run(loginArgv(server, credentials.username), { input: credentials.password, env, signal, secrets: [credentials.password] });
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    throw registryFailure(`logging in to ${server} as ${credentials.username}`, server, error);
  }
}

/** Wrong credentials cannot get better by retrying; a registry that is down or erring can. */
function registryFailure(doing: string, server: string, error: CommandFailedError): ImageError {
  const kind = classifyRegistryError(error.stderr);
  if (kind === 'auth') {
    return new ImageError('RegistryAuthFailed', 'registry', `the registry ${server} refused ${doing}: wrong credentials or no access`, {
      description: `${error.tail}\nCheck the registry username and password (or token) in the secrets file, and that they may push to this repository.`,
      cause: error,
    });
  }
  if (kind === 'unreachable' || kind === 'server') {
    return new ImageError('RegistryUnavailable', 'registry', `the registry ${server} is not reachable or failing (${doing})`, {
      description: error.tail,
      retryable: true,
      cause: error,
    });
  }
  return new ImageError('PushFailed', 'registry', `${doing} failed`, { description: error.tail, retryable: true, cause: error });
}

async function localImageId(ref: string): Promise<string | undefined> {
  try {
    return (await run(imageInspectArgv(ref))).stdout.trim();
  } catch {
    return undefined;
  }
}

function localPort(registry: RegistryPlan): number {
  const port = Number(registry.server.split(':')[1]);
  return Number.isInteger(port) && port > 0 ? port : 5555;
}
