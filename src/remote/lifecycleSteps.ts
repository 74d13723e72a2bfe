import { dockerExec } from '../docker/compose';
import { CommandFailedError } from '../docker/runner';
import { KamalDevError } from '../errors';
import type { LifecycleStep } from '../spec/devcontainer-vars';
import { execEnvFileContent, lifecycleExec } from '../spec/lifecycle-secrets';
import type { LifecyclePlan } from '../spec/plan';
import { redact } from '../spec/redact';
import type { RemoteExecOptions, SshSession } from '../ssh/session';
import type { FailedCommand } from '../domain/stack';

/** A lifecycle command that exited non-zero; `failed` is what `status` shows of it (no secret values). */
export class LifecycleCommandError extends KamalDevError {
  constructor(
    readonly failed: FailedCommand,
    message: string,
    description: string | undefined,
  ) {
    // A KamalDevError is not retried: the user's own command failed, and running it again may not be safe.
    super('compose', message, { description });
    this.name = 'LifecycleCommandError';
  }
}

/** The entries of an object-form command run in parallel, as devcontainer tools run them. */
export async function runLifecycleSteps(
  session: SshSession,
  lifecycle: LifecyclePlan,
  containerId: string,
  secrets: { values: Record<string, string>; file: string },
  what: { name: string; steps: LifecycleStep[]; vmName: string; onLine: NonNullable<RemoteExecOptions['onLine']> },
): Promise<void> {
  const execs = what.steps.map((step) => ({ step, ...lifecycleExec(step, lifecycle.env, secrets.values) }));
  const secretEnv = Object.assign({}, ...execs.map((e) => e.secretEnv)) as Record<string, string>;
  const withFile = Object.keys(secretEnv).length > 0;
  if (withFile) await session.upload(secrets.file, execEnvFileContent(secretEnv), 0o600);
  const hidden = Object.values(secrets.values);
  try {
    await Promise.all(
      execs.map(async ({ step, command, env }) => {
        const argv = dockerExec(containerId, command, { workdir: lifecycle.workdir, user: lifecycle.user, env, ...(withFile ? { envFile: secrets.file } : {}) });
        try {
          await session.run(argv, { root: true, onLine: what.onLine, secrets: hidden });
        } catch (error) {
          if (!(error instanceof CommandFailedError)) throw error;
          const label = [what.name, step.feature && `of feature ${step.feature}`, step.name].filter(Boolean).join(' ');
          const output = redact(`${error.stdout}\n${error.stderr}`, hidden).split('\n').filter((l) => l.trim());
          const failed: FailedCommand = { hook: what.name, ...(step.feature ? { feature: step.feature } : {}), ...(step.name ? { step: step.name } : {}), exitCode: error.exitCode, lines: output.slice(-20), at: new Date().toISOString() };
          throw new LifecycleCommandError(failed, `${label} failed on ${what.vmName} (exit code ${error.exitCode})${output.length ? `: ${output.at(-1)}` : ''}`, output.slice(-20, -1).join('\n') || undefined);
        }
      }),
    );
  } finally {
    if (withFile) await session.exec(['rm', '-f', '--', secrets.file]);
  }
}

