import { posix } from 'node:path';
import { composeContainerId, containerStartedAt, dockerExec } from '../docker/compose';
import { CommandFailedError } from '../docker/runner';
import { KamalDevError } from '../errors';
import type { LifecycleStep } from '../spec/devcontainer-vars';
import { execEnvFileContent, lifecycleExec } from '../spec/lifecycle-secrets';
import { redact } from '../spec/redact';
import type { DeployPlan, LifecyclePlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { stackRef } from './stackDir';

/**
 * What ran last on this VM: postCreateCommand runs once per container (a redeploy that keeps the
 * container does not run it again; one that replaces it does), postStartCommand once per start.
 */
interface Marker {
  created?: string;
  started?: string;
}

const MARKER_FILE = '.devcontainer-commands.json';
/** The secrets of remoteEnv and the commands (mode 600), there only while the commands run. */
const SECRETS_EXEC_FILE = 'lifecycle.env';

/**
 * Runs what devcontainer.json asks for after the stack is up and healthy; returns the names of what
 * ran. `secretValues` holds the values of `lifecycle.secrets`.
 */
export async function runDevcontainerCommands(
  session: SshSession,
  plan: DeployPlan,
  vmName: string,
  onLine: () => void,
  secretValues: Record<string, string> = {},
): Promise<string[]> {
  const lifecycle = plan.stack.lifecycle;
  if (!lifecycle) return [];
  const stack = stackRef(plan);
  const service = plan.stack.primaryService;
  const containerId = (await session.run(composeContainerId(stack, service), { root: true })).stdout.trim();
  if (!containerId) throw new KamalDevError('compose', `${vmName}: service ${service} has no container to run postCreateCommand in`);
  const startedAt = (await session.run(containerStartedAt(containerId), { root: true })).stdout.trim();
  const markerFile = posix.join(stack.dir, MARKER_FILE);
  const marker = parseMarker((await session.exec(['cat', '--', markerFile])).stdout);

  const secrets = { values: secretValues, file: posix.join(stack.dir, SECRETS_EXEC_FILE) };
  const run = (name: string, steps: LifecycleStep[]) => runSteps(session, lifecycle, containerId, secrets, { name, steps, vmName, onLine });
  const ran: string[] = [];
  if (lifecycle.postCreate.length > 0 && marker.created !== containerId) {
    await run('postCreateCommand', lifecycle.postCreate);
    ran.push('postCreateCommand');
  }
  // Recorded before postStartCommand: if that one fails, a retry does not run postCreateCommand again.
  await session.upload(markerFile, JSON.stringify({ created: containerId, started: marker.started } satisfies Marker));
  if (lifecycle.postStart.length > 0 && marker.started !== startedAt) {
    await run('postStartCommand', lifecycle.postStart);
    ran.push('postStartCommand');
  }
  await session.upload(markerFile, JSON.stringify({ created: containerId, started: startedAt } satisfies Marker));
  return ran;
}

/** The entries of an object-form command run in parallel, as devcontainer tools run them. */
async function runSteps(
  session: SshSession,
  lifecycle: LifecyclePlan,
  containerId: string,
  secrets: { values: Record<string, string>; file: string },
  what: { name: string; steps: LifecycleStep[]; vmName: string; onLine: () => void },
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
          const label = step.name ? `${what.name} ${step.name}` : what.name;
          const output = redact(`${error.stdout}\n${error.stderr}`, hidden).split('\n').filter((l) => l.trim());
          // A KamalDevError is not retried: the user's own command failed, and running it again may not be safe.
          throw new KamalDevError('compose', `${label} failed on ${what.vmName} (exit code ${error.exitCode})${output.length ? `: ${output.at(-1)}` : ''}`, {
            description: output.slice(-20, -1).join('\n') || undefined,
          });
        }
      }),
    );
  } finally {
    if (withFile) await session.exec(['rm', '-f', '--', secrets.file]);
  }
}

function parseMarker(text: string): Marker {
  try {
    return JSON.parse(text) as Marker;
  } catch {
    return {};
  }
}
