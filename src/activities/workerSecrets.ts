import { configError } from '../errors';
import type { DeployPlan } from '../spec/plan';
import { loadSecrets, missingSecret, type Secrets } from '../spec/secrets';
import { holdsProject, workerName } from '../state/source';

export interface WorkerSecretOptions {
  /** `kamal-dev worker --secrets FILE`: this worker's own secrets, in .kamal/secrets' format. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Secret values by name, on this worker only: its environment first, then its --secrets file, then
 * the project's .kamal/secrets where this machine holds the project. Each file is loaded (and its
 * $(commands) run) on first use only. A name none of them sets fails at once, non-retryably, naming
 * the secret and the worker.
 */
export function workerSecretResolver(plan: DeployPlan, options: WorkerSecretOptions = {}): (name: string) => string {
  const env = options.env ?? process.env;
  const source = holdsProject(plan);
  const files = [options.file, source ? plan.secretsFile : undefined].filter((f): f is string => f !== undefined);
  const loaded = new Map<string, Secrets>();
  const load = (file: string) => loaded.get(file) ?? loaded.set(file, loadSecrets(file, env)).get(file)!;
  return (name) => {
    const value = env[name] || files.map((file) => load(file).get(name)).find((v) => v !== undefined && v !== '');
    if (value) return value;
    if (source && !options.file) throw missingSecret(name, plan.secretsFile);
    throw configError(`secret ${name} is not set on worker ${workerName()}`, {
      key: name,
      ...(options.file ? { file: options.file } : {}),
      description:
        `Workers resolve secrets by name: export ${name} in the environment of \`kamal-dev worker\` on ${workerName()}, ` +
        `or put ${name}=... in the file that \`kamal-dev worker --secrets FILE\` names` +
        (source ? ` (or in ${plan.secretsFile}).` : '. This worker does not hold the project folder, so its .kamal/secrets is not read here.'),
    });
  };
}
