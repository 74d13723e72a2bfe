import type { Activities } from '../activities/types';
import type { TemporalConfig } from '../client/settings';
import type { DeployPlan } from '../spec/plan';
import type { ImageCommandDeps } from './commands/images';
import { initializeOnThisMachine } from './initialize';
import { type ResolvedSpec, resolvePlan, resolveSpec } from '../spec/resolve';

/** A plan with what the command says about it first (specWarningLines). */
export type CheckedPlan = Pick<ResolvedSpec, 'plan' | 'storedEnvironment' | 'warnings'>;

/** What the CLI needs from outside: real activities and config in production, fakes in tests. */
export interface CliDeps {
  /** Builds this machine's activity implementations (createActivities); `secretsFile`: `kamal-dev worker --secrets`. */
  activities?: (context: { projectDir: string; secretsFile?: string }) => Activities | Promise<Activities>;
  /** The plan from the project's files (resolvePlan); checked locally before anything starts. */
  plan?: (options: { projectDir: string; count?: number; from?: string }) => Promise<DeployPlan>;
  /** config/dev.yml `temporal:` of the project, when there is one. */
  temporalConfig?: (projectDir: string) => TemporalConfig | Promise<TemporalConfig>;
  /** What `build` and `push` load the plan and secrets with (tests inject a fixed plan). */
  images?: ImageCommandDeps;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** How often live progress refreshes. */
  pollIntervalMs?: number;
}

/** The CLI's planner: the injected one, or the real resolvePlan. */
export function planOf(deps: CliDeps): NonNullable<CliDeps['plan']> {
  return deps.plan ?? (({ from, ...options }) => resolvePlan({ ...options, devcontainerPath: from }));
}

/** For `deploy`: initializeCommand run, then the plan and its warnings; an injected planner has nothing to warn about. */
export function checkedPlanOf(deps: CliDeps): (options: { projectDir: string; count?: number; from?: string }) => Promise<CheckedPlan> {
  if (deps.plan) return async (options) => ({ plan: await deps.plan!(options), storedEnvironment: [], warnings: [] });
  return ({ from, ...options }) =>
    resolveSpec({ ...options, devcontainerPath: from, initialize: (steps, where) => initializeOnThisMachine(steps, where, deps.stderr ?? process.stderr) });
}
