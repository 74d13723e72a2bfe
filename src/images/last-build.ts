import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BuiltImage } from '../domain/images';
import { ImageError } from './errors';

/** What `kamal-dev build` made last in a project, so `push` and `deploy --skip-build` use exactly that. */
export interface LastBuild {
  buildId: string;
  tag: string;
  builtAt: string;
  images: BuiltImage[];
  /** buildKey() of what it was built from, when it could be keyed: an unchanged redeploy reuses its images. */
  key?: string;
}

export function lastBuildPath(projectDir: string): string {
  return join(projectDir, '.kamal', 'last_build.json');
}

export function writeLastBuild(projectDir: string, record: LastBuild): void {
  const path = lastBuildPath(projectDir);
  mkdirSync(dirname(path), { recursive: true });
  // Written whole then renamed, so a crash never leaves half a record for `push` to trust.
  writeFileSync(`${path}.tmp`, JSON.stringify(record, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}

export function readLastBuild(projectDir: string): LastBuild | undefined {
  try {
    return JSON.parse(readFileSync(lastBuildPath(projectDir), 'utf8')) as LastBuild;
  } catch {
    return undefined;
  }
}

/** The last build, of this tag when one is asked for; never a made-up one. */
export function requireLastBuild(projectDir: string, tag?: string): LastBuild {
  const record = readLastBuild(projectDir);
  if (!record) {
    throw new ImageError('NoRecordedBuild', 'state', 'nothing has been built in this project yet', {
      file: lastBuildPath(projectDir),
      description: 'Run `kamal-dev build` first.',
    });
  }
  if (tag !== undefined && record.tag !== tag) {
    throw new ImageError('NoRecordedBuild', 'state', `the last build is tag ${record.tag}, not ${tag}`, {
      file: lastBuildPath(projectDir),
      description: `Run \`kamal-dev build --tag ${tag}\` first, or push ${record.tag}.`,
    });
  }
  return record;
}
