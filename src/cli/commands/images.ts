import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BuildEvent, describeStep } from '../../docker/build-progress';
import type { PushEvent } from '../../docker/push-progress';
import type { ResolveSecret } from '../../images/credentials';
import type { DeployPlan } from '../../spec/plan';
import { initializeOnThisMachine } from '../initialize';
import { resolvePlan } from '../../spec/resolve';
import { lazySecretResolver } from '../../spec/secrets';

/** What `build` and `push` need from the spec layer, passed in so these commands stay apart from config parsing. */
export interface ImageCommandDeps {
  /** The resolved plan of the project in `cwd`, with `tag` overriding the computed one; `initialize` runs initializeCommand first. */
  loadPlan(options: { cwd: string; tag?: string; initialize?: boolean }): Promise<DeployPlan>;
  /** The project's secrets (.kamal/secrets, then the environment). */
  secretsFor(plan: DeployPlan): ResolveSecret;
  stdout?: NodeJS.WritableStream;
}

/** The real project: config, devcontainer and compose files in the folder, secrets from .kamal/secrets. */
export const projectImageDeps: ImageCommandDeps = {
  loadPlan: ({ cwd, tag, initialize }) => resolvePlan({ projectDir: resolve(cwd), tag, initialize: initialize ? initializeOnThisMachine : undefined }),
  secretsFor: (plan) => lazySecretResolver(plan.secretsFile),
};

export function newBuildId(plan: DeployPlan): string {
  return `${plan.service}-${plan.tag}-${randomBytes(4).toString('hex')}`;
}

/** One line per step state, readable in a terminal and in CI logs alike. */
export function renderBuildEvent(service: string, event: BuildEvent): string | undefined {
  const step = `${service} ${describeStep(event.step)}`;
  switch (event.type) {
    case 'step':
      return event.step.index !== undefined ? `${step}` : undefined;
    case 'cached':
      return event.step.index !== undefined ? `${step}  CACHED` : undefined;
    case 'done':
      return event.step.index !== undefined ? `${step}  done ${event.elapsedSeconds.toFixed(1)}s` : undefined;
    case 'warning':
      return `${service} warning: ${event.message}`;
    case 'error':
    case 'log':
      return undefined; // the failure's error message carries the step and its last lines
  }
}

export function renderPushEvent(image: string, event: PushEvent): string | undefined {
  if (event.type === 'pushed') return `${image}  pushed ${event.digest}`;
  return /^(Pushed|Layer already exists)$/.test(event.status) ? `${image}  layer ${event.layer} ${event.status.toLowerCase()}` : undefined;
}
