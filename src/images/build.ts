import type { BuiltImage } from '../activities/types';
import { BuildEvent, BuildProgressParser, describeStep } from '../docker/build-progress';
import { buildxBuildArgv, IMAGE_LABELS } from '../docker/build';
import { imageInspectArgv, imagesByLabelArgv, removeImagesArgv } from '../docker/image';
import { checkBuildInputs, checkDocker } from '../docker/preflight';
import { CommandFailedError, run } from '../docker/runner';
import type { DeployPlan, ImageBuild } from '../spec/plan';
import { buildSecretValues, registryCredentials, ResolveSecret } from './credentials';
import { ImageError } from './errors';
import { writeLastBuild } from './last-build';
import { withRegistryLogin } from './login';

export interface BuildImagesOptions {
  buildId: string;
  resolveSecret: ResolveSecret;
  noCache?: boolean;
  /** Check the registry credentials exist before building (default true: a build is usually pushed). */
  checkCredentials?: boolean;
  onEvent?: (service: string, event: BuildEvent) => void;
  signal?: AbortSignal;
}

/**
 * Builds every image of the plan, labelled with the build id, after checking everything a build
 * needs. On failure (or cancellation) no image labelled with this build id is left behind.
 * Records the result in .kamal/last_build.json.
 */
export async function buildImages(plan: DeployPlan, options: BuildImagesOptions): Promise<BuiltImage[]> {
  await checkDocker({ compose: plan.kind === 'compose', signal: options.signal });
  checkBuildInputs(plan.builds);
  const credentials = (options.checkCredentials ?? true) ? registryCredentials(plan, options.resolveSecret) : undefined;
  // Reading --cache-from images from a private registry needs a login; nothing else in a build does.
  const usesRegistryCache = !options.noCache && plan.builds.some((b) => b.cacheFrom.length > 0);
  const secretEnvs = plan.builds.map((build) => buildSecretValues(plan, build, options.resolveSecret));
  const revision = await gitRevision(plan.projectDir);
  const built: BuiltImage[] = [];
  try {
    await withRegistryLogin(plan.registry.server, usesRegistryCache ? credentials : undefined, options.signal, async (dockerEnv) => {
      for (const [i, build] of plan.builds.entries()) {
        built.push(await buildOne(plan, build, { ...dockerEnv, ...secretEnvs[i] }, revision, options));
      }
    });
  } catch (error) {
    await removeBuildImages(options.buildId).catch(() => undefined);
    throw error;
  }
  writeLastBuild(plan.projectDir, { buildId: options.buildId, tag: plan.tag, builtAt: new Date().toISOString(), images: built });
  return built;
}

async function buildOne(
  plan: DeployPlan,
  build: ImageBuild,
  env: Record<string, string>,
  revision: string | undefined,
  options: BuildImagesOptions,
): Promise<BuiltImage> {
  const argv = buildxBuildArgv(build, { buildId: options.buildId, deployment: plan.service, revision, noCache: options.noCache });
  const parser = new BuildProgressParser();
  try {
    await run(argv, {
      cwd: build.context,
      env,
      secrets: build.secrets.map((name) => env[name]),
      signal: options.signal,
      onLine: (line) => {
        for (const event of parser.push(line)) options.onEvent?.(build.service, event);
      },
    });
  } catch (error) {
    if (!(error instanceof CommandFailedError)) throw error;
    const failure = parser.failure();
    const where = failure.step ? ` at step ${describeStep(failure.step)}` : '';
    throw new ImageError('BuildFailed', 'build', `building the image of service ${build.service} failed${where}`, {
      file: build.dockerfile,
      description: [failure.message, ...(failure.logs.length > 0 ? ['last output:', ...failure.logs.map((l) => `  ${l}`)] : [])].join('\n'),
      cause: error,
    });
  }
  const { stdout } = await run(imageInspectArgv(build.image), { signal: options.signal });
  return { service: build.service, image: build.image, imageId: stdout.trim() };
}

/** Removes every image labelled with this build id (the compensation of a build); none is a success. */
export async function removeBuildImages(buildId: string, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await run(imagesByLabelArgv(IMAGE_LABELS.buildId, buildId), { signal });
  const ids = [...new Set(stdout.split('\n').map((l) => l.trim()).filter(Boolean))];
  if (ids.length > 0) await run(removeImagesArgv(ids), { signal });
  return ids;
}

async function gitRevision(projectDir: string): Promise<string | undefined> {
  try {
    return (await run(['git', '-C', projectDir, 'rev-parse', 'HEAD'])).stdout.trim() || undefined;
  } catch {
    return undefined; // not a git checkout: the label is simply left out
  }
}
