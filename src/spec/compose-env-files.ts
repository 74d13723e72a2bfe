import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * `docker compose config` inlines env_file contents into `environment`. To ship env files as files
 * (so their values are not copied into compose.yaml and Temporal history), we read which service
 * names which env files from the compose files as written: paths relative to the file that names
 * them, in merge order. (env_file reached only through `extends:` or `include:` stays inlined.)
 */
export interface EnvFileSources {
  files: { path: string; keys: string[] }[];
  /** Keys written under `environment:` in some compose file: they win over env files and stay inlined. */
  explicitKeys: string[];
}

type RawService = { env_file?: unknown; environment?: unknown };

export function readEnvFileSources(composeFiles: string[]): Record<string, EnvFileSources> {
  const sources: Record<string, EnvFileSources> = {};
  for (const composeFile of composeFiles) {
    const doc = parse(readFileSync(composeFile, 'utf8')) as { services?: Record<string, RawService> } | null;
    for (const [name, service] of Object.entries(doc?.services ?? {})) {
      const entry = (sources[name] ??= { files: [], explicitKeys: [] });
      for (const path of envFilePaths(service?.env_file)) {
        const absolute = resolve(dirname(composeFile), path);
        if (!existsSync(absolute) || entry.files.some((f) => f.path === absolute)) continue;
        entry.files.push({ path: absolute, keys: envFileKeys(readFileSync(absolute, 'utf8')) });
      }
      entry.explicitKeys.push(...environmentKeys(service?.environment));
    }
  }
  return sources;
}

function envFilePaths(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return list.map((item) => (typeof item === 'string' ? item : (item as { path?: string })?.path)).filter((p): p is string => typeof p === 'string');
}

function environmentKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((item) => String(item).split('=')[0]);
  if (value && typeof value === 'object') return Object.keys(value);
  return [];
}

/** The variable names an env file sets (Compose's env file syntax is looser than .kamal/secrets: take the names only). */
function envFileKeys(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => /^\s*(?:export\s+)?([^\s=#]+)\s*(?:=|$)/.exec(line)?.[1])
    .filter((key): key is string => key !== undefined);
}
