import { configError } from '../errors';
import type { ImageBuild } from '../spec/plan';

/**
 * `docker buildx build` argv for one ImageBuild.
 *
 * Driver: the engine's default `docker` driver. It builds inside the engine (no moby/buildkit image
 * to pull, which no machine here can), and its results land straight in the engine's image store,
 * so `--load` costs nothing and `docker push` pushes them. Its limit: it cannot export a separate
 * registry cache. So `build.cache` is an inline cache: `--cache-to type=inline` writes the cache
 * metadata into the image itself, which is then pushed as usual, and `--cache-from` names pushed
 * images to reuse layers from, which the docker driver can import. A build on another machine
 * therefore reuses every layer of the last pushed image whose instructions are unchanged.
 *
 * Progress: `plain`. It is line-oriented (`#5 [2/4] RUN ...`, `#5 CACHED`, `#5 DONE 0.1s`,
 * `#5 ERROR: ...`) and carries everything the progress parser needs; `rawjson` is pretty-printed
 * multi-line JSON with base64 logs that says no more.
 *
 * Platform: only when the build names one; otherwise the engine's own platform, which is what
 * local VMs run and what a same-architecture remote VM needs, with no emulation.
 */
export interface BuildArgvOptions {
  /** config `service`: the deployment this image belongs to. */
  deployment: string;
  /** git commit of the source, when known. */
  revision?: string;
  /** Where the source lives (repository URL), when known. */
  source?: string;
  noCache?: boolean;
  /** Push from buildx instead of loading into the engine (default: load, then `docker push`). */
  push?: boolean;
  /** More image labels (the features stage's devcontainer.metadata). */
  labels?: Record<string, string>;
  /** Build secret name -> the mode-600 file that holds its value (secretFiles in src/images/secret-files.ts). */
  secretFiles?: Record<string, string>;
}

export const IMAGE_LABELS = {
  service: 'kamal-dev.service',
  composeService: 'kamal-dev.compose-service',
  revision: 'org.opencontainers.image.revision',
  source: 'org.opencontainers.image.source',
} as const;

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function buildxBuildArgv(build: ImageBuild, options: BuildArgvOptions): string[] {
  return [
    'docker', 'buildx', 'build',
    '--progress=plain',
    '--file', build.dockerfile,
    ...Object.entries(build.args).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
    ...build.secrets.flatMap((name) => ['--secret', secretSpec(name, options.secretFiles?.[name])]),
    ...(build.target ? ['--target', build.target] : []),
    ...(build.platform ? ['--platform', build.platform] : []),
    ...Object.entries(buildLabels(build, options)).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
    ...cacheArgv(build, options),
    '--tag', build.image,
    options.push ? '--push' : '--load',
    build.context,
  ];
}

export function buildLabels(build: ImageBuild, options: BuildArgvOptions): Record<string, string> {
  return {
    [IMAGE_LABELS.service]: options.deployment,
    [IMAGE_LABELS.composeService]: build.service,
    ...(options.revision ? { [IMAGE_LABELS.revision]: options.revision } : {}),
    ...(options.source ? { [IMAGE_LABELS.source]: options.source } : {}),
    ...options.labels,
  };
}

/** The secret's value reaches buildx through a mode-600 file, never argv or the environment. */
function secretSpec(name: string, file: string | undefined): string {
  // A comma, '=' or quote would let a name or path inject other fields into buildx's CSV option.
  if (!SECRET_NAME.test(name)) {
    throw configError(`invalid build secret name ${JSON.stringify(name)}`, { key: 'build.secrets', description: 'Secret names are environment variable names: letters, digits and _.' });
  }
  if (!file || /[,="]/.test(file)) throw new Error(`build secret ${name} has no usable file (${JSON.stringify(file)})`);
  return `id=${name},src=${file}`;
}

function cacheArgv(build: ImageBuild, options: BuildArgvOptions): string[] {
  if (options.noCache) return ['--no-cache'];
  if (build.cacheFrom.length === 0 && !build.cacheImage) return [];
  const source = (from: string) => (from.includes('=') ? from : `type=registry,ref=${from}`);
  return [...build.cacheFrom.flatMap((from) => ['--cache-from', source(from)]), '--cache-to', 'type=inline'];
}

