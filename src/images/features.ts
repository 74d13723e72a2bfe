import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildProgressParser } from '../docker/build-progress';
import { buildxBuildArgv } from '../docker/build';
import { CommandFailedError, run } from '../docker/runner';
import { BASE_IMAGE_ARG, IMAGE_USER_ARG } from '../spec/features-stage';
import type { FeaturesStage, ImageBuild } from '../spec/plan';
import { ImageError } from './errors';

export const METADATA_LABEL = 'devcontainer.metadata';

export interface FeaturesBuildOptions {
  deployment: string;
  revision?: string;
  noCache?: boolean;
  signal?: AbortSignal;
  onLine: (line: string) => void;
}

/**
 * Installs the features on `base` (the image just built, or the devcontainer's image) and tags the
 * result as the build's image. The context is made fresh each time, but with the same files, so
 * an unchanged feature set on an unchanged base is all cache hits.
 */
export async function buildFeaturesStage(build: ImageBuild & { features: FeaturesStage }, base: string, options: FeaturesBuildOptions): Promise<void> {
  const context = mkdtempSync(join(tmpdir(), 'kamal-dev-features-'));
  try {
    for (const feature of build.features.features) {
      cpSync(feature.source, join(context, feature.dir), { recursive: true });
      writeFileSync(join(context, feature.dir, 'devcontainer-features.env'), feature.env);
    }
    writeFileSync(join(context, 'Dockerfile'), build.features.dockerfile);
    const stage: ImageBuild = { service: build.service, context, dockerfile: join(context, 'Dockerfile'), args: { [BASE_IMAGE_ARG]: base, [IMAGE_USER_ARG]: await imageUser(base, options.signal) }, secrets: [], cacheFrom: [], platform: build.platform, image: build.image };
    const argv = buildxBuildArgv(stage, { deployment: options.deployment, revision: options.revision, noCache: options.noCache, labels: { [METADATA_LABEL]: build.features.metadata } });
    const parser = new BuildProgressParser();
    try {
      await run(argv, { cwd: context, signal: options.signal, onLine: (line) => (parser.push(line), options.onLine(line)) });
    } catch (error) {
      if (!(error instanceof CommandFailedError)) throw error;
      const failure = parser.failure();
      const feature = build.features.features.find((f) => failure.step && JSON.stringify(failure.step).includes(f.dir));
      throw new ImageError('BuildFailed', 'build', `installing ${feature ? `feature ${feature.dir.replace(/^\d+_/, '')}` : 'the features'} into the image of service ${build.service} failed`, {
        description: [failure.message, ...(failure.logs.length > 0 ? ['last output:', ...failure.logs.map((l) => `  ${l}`)] : [])].join('\n'),
        cause: error,
      });
    }
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** The USER of an image, root when it names none (or is not here yet: the build pulls it). */
async function imageUser(image: string, signal?: AbortSignal): Promise<string> {
  try {
    return (await run(['docker', 'image', 'inspect', '--format', '{{.Config.User}}', image], { signal })).stdout.trim() || 'root';
  } catch {
    return 'root';
  }
}
