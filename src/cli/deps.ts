import type { Activities } from '../activities/types';
import type { TemporalConfig } from '../client/settings';

/** What the CLI needs from outside: real activities and config in production, fakes in tests. */
export interface CliDeps {
  /** Builds this machine's activity implementations (createActivities). */
  activities?: (context: { projectDir: string }) => Activities | Promise<Activities>;
  /** config/dev.yml `temporal:` of the project, when there is one. */
  temporalConfig?: (projectDir: string) => TemporalConfig | Promise<TemporalConfig>;
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** How often live progress refreshes. */
  pollIntervalMs?: number;
}
