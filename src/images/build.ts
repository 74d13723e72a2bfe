import type { BuiltImage } from '../domain/images';
import { BuildEvent, BuildProgressParser, describeStep, sourceFetchRetry } from '../docker/build-progress';
import { buildxBuildArgv } from '../docker/build';
import { imageInspectArgv, tagArgv, untagArgv } from '../docker/image';
import { checkBuildInputs, checkDocker } from '../docker/preflight';
import { CommandFailedError, run } from '../docker/runner';
import type { DeployPlan, ImageBuild } from '../spec/plan';
import { buildSecretValues, registryCredentials, ResolveSecret } from './credentials';
import { appendJournal, pruneJournals, readJournal, recordBuilt, removeJournal } from './build-journal';
import { ImageError } from './errors';
import { buildFeaturesStage } from './features';
import { buildKey } from './build-key';
import { readLastBuild, writeLastBuild } from './last-build';
import { withRegistryLogin } from './login';
import { localImageId } from './recorded';
import { withSecretFiles } from './secret-files';

export interface BuildImagesOptions {
  /** Names this build's journal, by which removeBuildImages undoes it. */
  buildId: string;
  resolveSecret: ResolveSecret;
  noCache?: boolean;
  /** Check the registry credentials exist before building (default true: a build is usually pushed). */
  checkCredentials?: boolean;
  onEvent?: (service: string, event: BuildEvent) => void;
  signal?: AbortSignal;
}

/**
 * Builds every image of the plan after checking everything a build needs. On failure (or
 * cancellation) every name it wrote is given back to the image it held before, and images only this
 * build made are gone. Records the result in .kamal/last_build.json.
 */
export async function buildImages(plan: DeployPlan, options: BuildImagesOptions): Promise<BuiltImage[]> {
  checkBuildInputs(plan.builds);
  const credentials = (options.checkCredentials ?? true) ? registryCredentials(plan, options.resolveSecret) : undefined;
  const secretValues = plan.builds.map((build) => buildSecretValues(plan, build, options.resolveSecret));
  const revision = await gitRevision(plan.projectDir);
  // An unchanged build asks nothing of buildx: the engine answered the key's image lookups already.
  // --no-cache builds, and records the key of what it built for the next deploy.
  const key = await buildKey(plan, revision);
  const unchanged = options.noCache || key === undefined ? undefined : await unchangedBuild(plan, key);
  if (unchanged) return unchanged;
  await checkDocker({ compose: plan.kind === 'compose', signal: options.signal });
  // Reading --cache-from images from a private registry needs a login; nothing else in a build does.
  const usesRegistryCache = !options.noCache && plan.builds.some((b) => b.cacheFrom.length > 0);
  pruneJournals();
  const built: BuiltImage[] = [];
  try {
    await withRegistryLogin(plan.registry.server, usesRegistryCache ? credentials : undefined, options.signal, async (dockerEnv) => {
      for (const [i, build] of plan.builds.entries()) {
        appendJournal(options.buildId, { image: build.image, previousImageId: await localImageId(build.image) });
        const image = await withSecretFiles(secretValues[i], (files) => buildOne(plan, build, { env: dockerEnv, files, values: secretValues[i] }, revision, options));
        recordBuilt(options.buildId, image.image, image.imageId);
        built.push(image);
      }
    });
  } catch (error) {
    await removeBuildImages(options.buildId).catch(() => undefined);
    throw error;
  }
  writeLastBuild(plan.projectDir, { buildId: options.buildId, tag: plan.tag, builtAt: new Date().toISOString(), images: built, ...(key ? { key } : {}) });
  return built;
}

/**
 * The last build's images when it was made from exactly this (the same build key) and the engine
 * still holds each under the id it had; nothing is written, so no compensation touches them.
 */
async function unchangedBuild(plan: DeployPlan, key: string): Promise<BuiltImage[] | undefined> {
  const last = readLastBuild(plan.projectDir);
  if (last?.key !== key || last.tag !== plan.tag || last.images.length !== plan.builds.length) return undefined;
  for (const image of last.images) {
    if ((await localImageId(image.image)) !== image.imageId) return undefined;
  }
  return last.images.map((image) => ({ ...image, reused: true }));
}

/** What a Dockerfile build runs with: the registry login's environment, and its secrets as files (and values, to redact). */
interface BuildInputs {
  env: Record<string, string>;
  files: Record<string, string>;
  values: Record<string, string>;
}

async function buildOne(plan: DeployPlan, build: ImageBuild, inputs: BuildInputs, revision: string | undefined, options: BuildImagesOptions): Promise<BuiltImage> {
  const buildsBase = !build.features?.baseImage;
  if (buildsBase) await buildDockerfile(plan, build, inputs, revision, options);
  if (build.features) {
    const baseId = buildsBase ? await localImageId(build.image) : undefined;
    const features = { ...build, features: build.features };
    const progress = new BuildProgressParser();
    const onLine = (line: string) => {
      for (const event of progress.push(line)) options.onEvent?.(build.service, event);
    };
    await buildFeaturesStage(features, build.features.baseImage ?? build.image, { deployment: plan.service, revision, noCache: options.noCache, signal: options.signal, onLine });
    if (baseId) await removeUnnamedImage(baseId, options.signal);
  }
  const { stdout } = await run(imageInspectArgv(build.image), { signal: options.signal });
  return { service: build.service, image: build.image, imageId: stdout.trim() };
}

async function buildDockerfile(plan: DeployPlan, build: ImageBuild, inputs: BuildInputs, revision: string | undefined, options: BuildImagesOptions): Promise<void> {
  const argv = buildxBuildArgv(build, { deployment: plan.service, revision, noCache: options.noCache, secretFiles: inputs.files });
  const parser = new BuildProgressParser();
  try {
    await run(argv, {
      cwd: build.context,
      env: inputs.env,
      secrets: Object.values(inputs.values),
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
      retry: sourceFetchRetry(failure.message),
      description: [failure.message, ...(failure.logs.length > 0 ? ['last output:', ...failure.logs.map((l) => `  ${l}`)] : [])].join('\n'),
      cause: error,
    });
  }
}

/**
 * Undoes a build (the compensation of a build or a push): each name it wrote goes back to the image
 * it held before, or away when it held none, so an image only this build made is removed. A name
 * that has moved on since (a newer build) is left alone. Returns the names it changed.
 */
export async function removeBuildImages(buildId: string, signal?: AbortSignal): Promise<string[]> {
  const undone: string[] = [];
  for (const { image, previousImageId, imageId } of readJournal(buildId)) {
    const current = await localImageId(image);
    if (current === undefined || current === previousImageId || (imageId !== undefined && current !== imageId)) continue;
    await run(untagArgv(image), { signal });
    if (previousImageId && (await localImageId(previousImageId))) await run(tagArgv(previousImageId, image), { signal });
    undone.push(image);
  }
  removeJournal(buildId);
  return undone;
}

/**
 * The features stage takes the name from the Dockerfile's image, which then has none: it goes, so
 * every build does not leave an untagged image behind. Its layers stay (the final image holds them)
 * and so does the build cache. An image someone named meanwhile is kept.
 */
async function removeUnnamedImage(imageId: string, signal?: AbortSignal): Promise<void> {
  const { stdout } = await run(imageInspectArgv(imageId, '{{len .RepoTags}}'), { signal });
  if (stdout.trim() === '0') await run(untagArgv(imageId), { signal }).catch(() => undefined); // in use by a container: it stays
}

async function gitRevision(projectDir: string): Promise<string | undefined> {
  try {
    return (await run(['git', '-C', projectDir, 'rev-parse', 'HEAD'])).stdout.trim() || undefined;
  } catch {
    return undefined; // not a git checkout: the label is simply left out
  }
}
