import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dockerfileRefs } from '../spec/dockerfile-refs';
import type { DeployPlan, ImageBuild } from '../spec/plan';
import { contextDigest, treeDigest } from './context-digest';
import { localImageId } from './recorded';

const { version: KAMAL_DEV_VERSION } = require('../../package.json') as { version: string };

/**
 * What decides the images of a plan, as one digest: kamal-dev's own version (it writes the argv,
 * labels and features stage), the deployment and git revision (labels), and per build the Dockerfile,
 * the context as the build sees it (.dockerignore applied; kamal-dev's .kamal/ folder left out),
 * build args, target, platform, the names of its secrets, the tag, the local ids of the images it
 * builds on, and the features with their options.
 * The same key with the image still in the engine under the id it had means a build would make the
 * same image: deploy reuses it without running buildx (src/images/build.ts).
 *
 * Secret VALUES are not in the key, as BuildKit's own cache does not key on them either: a changed
 * secret alone reuses the image a cached build would have made too. `--no-cache` rebuilds.
 *
 * Undefined when a build reads something the key cannot pin down (a base image that is not local,
 * a URL source, a context too big to read quickly): such a build always runs.
 */
export async function buildKey(plan: DeployPlan, revision: string | undefined): Promise<string | undefined> {
  const hash = createHash('sha256').update(JSON.stringify({ kamalDev: KAMAL_DEV_VERSION, deployment: plan.service, revision: revision ?? null }));
  for (const build of plan.builds) {
    const key = await imageKey(build, [join(plan.projectDir, '.kamal')]);
    if (key === undefined) return undefined;
    hash.update(key);
  }
  return hash.digest('hex');
}

async function imageKey(build: ImageBuild, leftOut: string[]): Promise<string | undefined> {
  const { context, dockerfile, features, ...rest } = build;
  const parts: Record<string, unknown> = { ...rest, args: sorted(build.args), cacheFrom: [...build.cacheFrom] };
  if (!features?.baseImage) {
    const text = readFileSync(dockerfile, 'utf8');
    const refs = dockerfileRefs(text, build.args);
    if ('unkeyed' in refs) return undefined;
    const bases = await imageIds(refs.images);
    if (!bases) return undefined;
    const files = contextDigest(context, dockerfile, leftOut);
    if (!files) return undefined;
    Object.assign(parts, { dockerfile: relative(context, dockerfile), dockerfileText: text, context: files, bases });
  }
  if (features) {
    const base = features.baseImage ? await imageIds([features.baseImage]) : {};
    if (!base) return undefined;
    const installed = features.features.map((f) => ({ dir: f.dir, env: f.env, files: treeDigest(f.source) })); // copied whole into the stage's context
    if (installed.some((f) => !f.files)) return undefined;
    Object.assign(parts, { features: { base, dockerfile: features.dockerfile, metadata: features.metadata, installed } });
  }
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** The local id of every image, or undefined when one is not in the engine (the build would fetch it). */
async function imageIds(refs: string[]): Promise<Record<string, string> | undefined> {
  const ids: Record<string, string> = {};
  for (const ref of refs) {
    const id = await localImageId(ref);
    if (id === undefined) return undefined;
    ids[ref] = id;
  }
  return ids;
}

function sorted(values: Record<string, string>): [string, string][] {
  return Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
