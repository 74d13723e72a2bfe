import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { configError } from '../errors';
import type { DevConfig } from './config';
import { placeholdersIn } from './compose-secrets';
import type { ImageBuild } from './plan';

type Service = Record<string, unknown>;
type BuildSection = {
  context?: string;
  dockerfile?: string;
  dockerfile_inline?: string;
  args?: Record<string, string | null>;
  target?: string;
  cache_from?: string[];
  secrets?: { source: string }[];
};
type TopSecrets = Record<string, { environment?: string; file?: string }>;

export interface BuildWhere {
  /** The compose file messages point at (shown form). */
  file: string;
}

/**
 * One ImageBuild per service with `build:`. Build secrets must come from the environment
 * (`secrets: {NAME: {environment: NAME}}`) with the secret id equal to the variable name, because
 * the build passes `--secret id=NAME,src=FILE` with values from .kamal/secrets in mode-600 files.
 */
export function composeBuilds(
  services: Record<string, Service>,
  topSecrets: TopSecrets,
  images: Record<string, string>,
  where: BuildWhere,
): ImageBuild[] {
  return Object.entries(services)
    .filter(([, service]) => service.build)
    .map(([name, service]) => {
      const build = service.build as BuildSection;
      const key = `services.${name}.build`;
      if (build.dockerfile_inline) throw configError('dockerfile_inline is not supported; put the Dockerfile in a file', { file: where.file, key: `${key}.dockerfile_inline` });
      const context = build.context ?? '.';
      if (/^[a-z]+:\/\/|^git@/.test(context) || !isAbsolute(context)) throw configError(`build context ${context} is not a local folder`, { file: where.file, key: `${key}.context` });
      if (!existsSync(context) || !statSync(context).isDirectory()) throw configError(`build context ${context} does not exist`, { file: where.file, key: `${key}.context` });
      const dockerfile = resolve(context, build.dockerfile ?? 'Dockerfile');
      if (!existsSync(dockerfile)) throw configError(`Dockerfile ${dockerfile} does not exist`, { file: where.file, key: `${key}.dockerfile`, description: 'dockerfile is relative to the build context.' });
      // The model is escaped for Compose's interpolation ($$ = a literal $); buildx takes the value as is.
      const args = Object.fromEntries(
        Object.entries(build.args ?? {})
          .filter((e): e is [string, string] => typeof e[1] === 'string')
          .map(([k, v]) => [k, v.split('$$').join('$')]),
      );
      for (const [arg, value] of Object.entries(args)) {
        const secret = placeholdersIn(value)[0];
        if (secret) {
          throw configError(`build arg ${arg} uses the secret ${secret}`, {
            file: where.file,
            key: `${key}.args.${arg}`,
            description: `Build args are stored in the image's history. Pass ${secret} as a build secret (RUN --mount=type=secret,id=${secret}) instead.`,
          });
        }
      }
      return {
        service: name,
        context,
        dockerfile,
        args,
        target: build.target,
        secrets: (build.secrets ?? []).map((s) => buildSecretName(s.source, topSecrets, where.file, key)),
        cacheFrom: build.cache_from ?? [],
        image: images[name],
      };
    });
}

function buildSecretName(id: string, topSecrets: TopSecrets, file: string, key: string): string {
  const secret = topSecrets[id];
  if (!secret) throw configError(`build secret ${id} is not defined under the top-level secrets:`, { file, key: `${key}.secrets` });
  if (secret.environment !== id) {
    throw configError(`build secret ${id} must come from the environment variable of the same name`, {
      file,
      key: `secrets.${id}`,
      description: `Write secrets: {${id}: {environment: ${id}}} and put ${id} in .kamal/secrets; kamal-dev passes each build secret to the build in a mode-600 file.`,
    });
  }
  return id;
}

/** config/dev.yml `build:` applies to the primary image: args and target win, secrets add up. */
export function applyConfigBuild(build: ImageBuild, config: DevConfig['build'], repository: string): ImageBuild {
  const cacheImage = config.cache ? (config.cache.image ?? `${repository}:buildcache`) : undefined;
  return {
    ...build,
    args: { ...build.args, ...config.args },
    target: config.target ?? build.target,
    secrets: [...new Set([...build.secrets, ...config.secrets])],
    platform: config.platform ?? build.platform,
    cacheFrom: [...build.cacheFrom, ...(cacheImage ? [cacheImage] : [])],
    cacheImage,
  };
}
