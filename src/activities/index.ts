import { createUpcloudProvider } from '../providers/upcloud';
import type { DeployPlan } from '../spec/plan';
import { createBuildActivities } from './build';
import { createPlanActivity } from './plan';
import type { Activities } from './types';
import { workerSecretResolver } from './workerSecrets';
import { createVmActivities } from './vm';

export interface ActivityOptions {
  localRegistryImage?: string;
  /** `kamal-dev worker --secrets FILE`. */
  secretsFile?: string;
}

export type WorkerActivities = Activities & { close(): Promise<void> };

/** Every activity of kamal-dev, as one worker registers them. Secrets are resolved here, per project. */
export function createActivities(options: ActivityOptions = {}): WorkerActivities {
  // One resolver per plan object, i.e. per activity call: a long-running worker sees edits to its
  // secrets files, and one activity evaluates a file's $(commands) at most once.
  const resolvers = new WeakMap<DeployPlan, (name: string) => string>();
  const secretsFor = (plan: DeployPlan) => {
    let resolver = resolvers.get(plan);
    if (!resolver) resolvers.set(plan, (resolver = workerSecretResolver(plan, { file: options.secretsFile })));
    return resolver;
  };
  const vm = createVmActivities({
    resolveSecret: async (name, plan) => secretsFor(plan)(name),
    providers: {
      upcloud: (config, plan) => createUpcloudProvider(config as Parameters<typeof createUpcloudProvider>[0], { resolveSecret: secretsFor(plan), identity: plan.identity }),
    },
  });
  return {
    planDeploy: createPlanActivity(secretsFor),
    ...createBuildActivities({ secretsFor, localRegistryImage: options.localRegistryImage }),
    ...vm,
  };
}
