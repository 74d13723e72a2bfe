import type { VmInstance } from '../providers/types';
import { remoteStackDir as stackDir } from '../spec/compose-mounts';
import type { DeployPlan } from '../spec/plan';
import { updateProjectState } from '../state/source';
import { readCommandFailures } from './commandFailures';
import { runDevcontainerCommands } from './devcontainerCommands';
import { classified } from './failures';
import { KamalDevError } from '../errors';
import { composeFailure, logsOfFailedContainers, pullAndUp, pullServiceImages } from './pullAndUp';
import { builtInRegistry, servicesToPull } from './imagesOnVm';
import { openRegistryAccess } from './registryAccess';
import type { DeployActivities, LifecycleActivities } from './types';
import { rollbackStackOn } from './rollback';
import { reuseLiveSeed, seedWorkspaceOn } from './seedWorkspace';
import { uploadStackTo, type UploadProgress } from './upload';
import { describeFailure, stackStates, waitForStack } from './verify';
import { heartbeat, heartbeating } from './activityContext';
import { VmContext } from './vmContext';
import type { SshSession } from '../ssh/session';

type StackActivities = Pick<DeployActivities, 'uploadStack' | 'seedWorkspace' | 'pullImages' | 'composeUp' | 'rollbackStack' | 'verifyStack' | 'runDevcontainerCommands'> & Pick<LifecycleActivities, 'stackStatus' | 'commandFailures'>;

/** composeUp of a workflow that predates releases: its swap can be rolled back by no one. */
const UNNAMED_RELEASE = 'unnamed';

export function createStackActivities(
  ctx: VmContext,
  findVm: (plan: DeployPlan, name: string) => Promise<VmInstance | undefined>,
): StackActivities {
  const secretsOf = async (plan: DeployPlan, names: string[]) =>
    Object.fromEntries(await Promise.all(names.map(async (n) => [n, await ctx.deps.resolveSecret(n, plan)] as const)));

  async function registryCredentials(plan: DeployPlan) {
    const { usernameSecret, passwordSecret } = plan.registry;
    if (!usernameSecret || !passwordSecret) return undefined;
    const values = await secretsOf(plan, [usernameSecret, passwordSecret]);
    return { username: values[usernameSecret], password: values[passwordSecret] };
  }

  async function withRegistryAccess(session: SshSession, plan: DeployPlan, work: (dockerConfig?: string) => Promise<void>): Promise<void> {
    const access = await openRegistryAccess(session, plan, await registryCredentials(plan));
    try {
      await work(access.dockerConfig);
    } finally {
      await access.close();
    }
  }

  return {
    uploadStack: ({ plan, vm, fromSeed }) =>
      classified('ConfigInvalid', async () => {
        const session = await ctx.session(plan, vm);
        const secretValues = await secretsOf(plan, plan.stack.secrets);
        let progress: UploadProgress = { bytes: 0, totalBytes: 0 };
        // Heartbeats carry the bytes sent: the CLI shows them, and a retry could start from them.
        return heartbeating(
          () => ({ step: 'upload', ...progress }),
          (beat) => uploadStackTo(session, plan, secretValues, (p) => ((progress = p), beat()), { fromSeed }),
        );
      }),

    seedWorkspace: ({ plan, vm, seed }) =>
      classified('ComposeInvalid', async () => {
        const session = await ctx.session(plan, vm);
        if (await reuseLiveSeed(session, plan, seed)) return plan.stack.workspace ? { workspace: 'kept' } : {};
        let result: { workspace?: string } = {};
        try {
          await withRegistryAccess(session, plan, async (dockerConfig) => {
            result = await heartbeating('seed', (onLine) => seedWorkspaceOn(session, plan, seed, { dockerConfig, onLine }));
          });
        } catch (error) {
          throw composeFailure(error, vm.name);
        }
        return result;
      }),

    pullImages: ({ plan, vm, services }) =>
      classified('ComposeInvalid', async () => {
        const session = await ctx.session(plan, vm);
        try {
          const credentials = await registryCredentials(plan);
          const early = (await builtInRegistry(plan, credentials)).filter((s) => !services.includes(s));
          const stale = await servicesToPull(session, plan, [...services, ...early], credentials);
          if (stale.length === 0) return;
          await withRegistryAccess(session, plan, (dockerConfig) => heartbeating('pull', (onLine) => pullServiceImages(session, plan, stale, { onLine, dockerConfig })));
        } catch (error) {
          throw composeFailure(error, vm.name);
        }
      }),

    composeUp: ({ plan, vm, skipPush, release, pulled = [] }) =>
      classified('ComposeInvalid', async () => {
        const session = await ctx.session(plan, vm);
        try {
          // Images the VM holds at the registry's digest already are not pulled again: with none left, no tunnel or login either.
          const rest = Object.keys((plan.stack.compose.services ?? {}) as object).filter((s) => !pulled.includes(s));
          const stale = skipPush ? rest : await servicesToPull(session, plan, rest, await registryCredentials(plan));
          const upToDate = rest.filter((s) => !stale.includes(s));
          const up = (dockerConfig?: string) =>
            heartbeating('compose', (onLine) => pullAndUp(session, plan, { skipPush, release: release ?? UNNAMED_RELEASE, onLine, dockerConfig, pulled: [...pulled, ...upToDate] }));
          await (stale.length > 0 ? withRegistryAccess(session, plan, up) : up());
        } catch (error) {
          const logs = await logsOfFailedContainers(session, error, Object.values(await secretsOf(plan, plan.stack.secrets)));
          throw composeFailure(error, vm.name, logs);
        }
      }),

    rollbackStack: ({ plan, vm, release }) =>
      classified('StackUnhealthy', async () => {
        const session = await ctx.session(plan, vm);
        const rolledBack = await heartbeating('rollback', async (onPoll) =>
          rollbackStackOn(session, plan, {
            release,
            timeoutMs: ctx.deps.verifyTimeoutMs ?? 180_000,
            logTail: ctx.deps.logTail ?? 40,
            secretValues: Object.values(await secretsOf(plan, plan.stack.secrets)),
            onPoll,
          }),
        );
        return { rolledBack };
      }),

    verifyStack: ({ plan, vm }) =>
      classified('StackUnhealthy', () => heartbeating('verify', async () => {
        const session = await ctx.session(plan, vm);
        const outcome = await waitForStack(session, plan, {
          timeoutMs: ctx.deps.verifyTimeoutMs ?? 180_000,
          logTail: ctx.deps.logTail ?? 40,
          secretValues: Object.values(await secretsOf(plan, plan.stack.secrets)),
          onPoll: () => heartbeat('verify'),
        });
        await updateProjectState(plan, (state) => {
          const entry = state.deployments[vm.name];
          if (entry) entry.containers = outcome.containers.map(({ ports: _ports, ...c }) => c);
        });
        if (outcome.failing) {
          const { services, logs } = outcome.failing;
          throw new KamalDevError('compose', `${vm.name}: ${describeFailure(outcome.containers, services)}\n${logs}`, { type: 'StackUnhealthy' });
        }
        return outcome.containers;
      })),

    runDevcontainerCommands: ({ plan, vm }) =>
      classified('DevcontainerCommandFailed', async () => {
        // The stack's secrets too: a command's output (`env`, a stack trace) may show them, and they are redacted from it.
        const secrets = await secretsOf(plan, [...new Set([...plan.stack.secrets, ...(plan.stack.lifecycle?.secrets ?? [])])]);
        const session = await ctx.session(plan, vm);
        return heartbeating('devcontainer commands', (onLine) => runDevcontainerCommands(session, plan, vm.name, onLine, secrets));
      }),

    stackStatus: ({ plan, vm }) =>
      classified('ProviderError', async () => {
        if ((await findVm(plan, vm.name))?.status !== 'running') return [];
        const session = await ctx.session(plan, vm);
        const present = await session.exec(['test', '-f', `${stackDir(plan.stack.projectName)}/compose.yaml`], { root: true });
        if (present.exitCode !== 0) return [];
        return (await stackStates(session, plan)).map(({ exitCode: _exitCode, ...rest }) => rest);
      }),

    commandFailures: ({ plan, vm }) =>
      classified('ProviderError', async () => {
        if ((await findVm(plan, vm.name))?.status !== 'running') return [];
        return readCommandFailures(await ctx.session(plan, vm), stackDir(plan.stack.projectName));
      }),
  };
}
