import { configError, KamalDevError } from '../errors';
import { CommandFailedError, run } from './runner';

/**
 * The one place that reads a Compose model: Compose itself merges the files in order and resolves
 * extends, include, .env, interpolation and relative paths (as the devcontainers CLI does).
 * `--profile *` keeps services of every profile, so profiles survive into the transformed file.
 */
export function composeConfigArgv(files: string[]): string[] {
  return ['docker', 'compose', ...files.flatMap((f) => ['-f', f]), '--profile', '*', 'config', '--format', 'json'];
}

export interface NormalizeOptions {
  /** The environment Compose interpolates from (kamal-dev passes placeholders for secret names). */
  env: Record<string, string>;
  /** How to show a compose file in messages (relative to the project). */
  show: (file: string) => string;
  signal?: AbortSignal;
}

export type ComposeModel = Record<string, unknown> & { services?: Record<string, Record<string, unknown>> };

export async function normalizeCompose(files: string[], options: NormalizeOptions): Promise<ComposeModel> {
  try {
    const { stdout } = await run(composeConfigArgv(files), { env: options.env, signal: options.signal });
    return JSON.parse(stdout) as ComposeModel;
  } catch (error) {
    if (error instanceof CommandFailedError) throw classifyComposeConfigError(error.stderr, files, options.show);
    throw error;
  }
}

/** Compose's own message, pointed at the file and key it names (else the first compose file). */
export function classifyComposeConfigError(stderr: string, files: string[], show: (file: string) => string): KamalDevError {
  const lines = stderr.trim().split('\n').filter((l) => l.trim() && !/level=warn/.test(l));
  const message = lines[lines.length - 1] ?? 'docker compose config failed';
  if (/unknown (shorthand )?flag|is not a docker command|unknown command "compose"/i.test(stderr)) {
    return new KamalDevError('prerequisite', 'Docker Compose v2 is not installed (`docker compose` is missing)', {
      description: 'Install the docker-compose-plugin (Compose v2); the old docker-compose 1.x is not enough.',
    });
  }
  if (/Cannot connect to the Docker daemon/i.test(stderr)) {
    return new KamalDevError('prerequisite', 'the Docker engine is not reachable', { description: message });
  }
  const named = files.find((f) => message.includes(f)) ?? files[0];
  const key = /\b(services\.[A-Za-z0-9_.-]+|volumes\.[A-Za-z0-9_.-]+|networks\.[A-Za-z0-9_.-]+|secrets\.[A-Za-z0-9_.-]+)/.exec(message)?.[1];
  const text = message.split(named).join(show(named)).replace(/^validating [^:]+: /, '');
  return configError(text.replace(key ? `${key} ` : '\u0000', ''), {
    file: show(named),
    key,
    description: files.length > 1 ? `Compose merged ${files.map(show).join(', ')} (in this order).` : undefined,
  });
}
