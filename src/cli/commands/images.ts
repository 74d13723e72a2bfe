import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ResolveSecret } from '../../images/credentials';
import { ImageProgress, ImageProgressTracker } from '../../images/progress';
import type { DeployPlan } from '../../spec/plan';
import { initializeOnThisMachine } from '../initialize';
import { resolveSpec } from '../../spec/resolve';
import type { CheckedPlan, CliDeps } from '../deps';
import { lazySecretResolver } from '../../spec/secrets';

/** What `build` and `push` need from the spec layer, passed in so these commands stay apart from config parsing. */
export interface ImageCommandDeps {
  /** The resolved plan of the project in `cwd` and its warnings, with `tag` overriding the computed one; `initialize` runs initializeCommand first. */
  loadPlan(options: { cwd: string; tag?: string; initialize?: boolean }): Promise<CheckedPlan>;
  /** The project's secrets (.kamal/secrets, then the environment). */
  secretsFor(plan: DeployPlan): ResolveSecret;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** The real project: config, devcontainer and compose files in the folder, secrets from .kamal/secrets. */
export const projectImageDeps: ImageCommandDeps = {
  // `build` (the one caller that initializes) fetches features to build them: it records their digests.
  loadPlan: ({ cwd, tag, initialize }) => resolveSpec({ projectDir: resolve(cwd), tag, initialize: initialize ? initializeOnThisMachine : undefined, writeLockfile: initialize }),
  secretsFor: (plan) => lazySecretResolver(plan.secretsFile),
};

/** The injected image deps (tests), else the real project's, printing to the CLI's streams. */
export function imageDepsOf(deps: CliDeps): ImageCommandDeps {
  return deps.images ?? { ...projectImageDeps, stdout: deps.stdout, stderr: deps.stderr };
}

export function newBuildId(plan: DeployPlan): string {
  return `${plan.service}-${plan.tag}-${randomBytes(4).toString('hex')}`;
}

/** The lines a deploy shows and the worker logs, for `build` and `push` run on their own. */
export function progressLines(write: (line: string) => void): (progress: ImageProgress) => void {
  const tracker = new ImageProgressTracker();
  return (progress) => {
    const line = tracker.apply(progress);
    if (line) write(line);
  };
}
