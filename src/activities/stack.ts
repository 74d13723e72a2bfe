import type { VmInstance } from '../providers/types';
import { remoteStackDir as stackDir } from '../spec/compose-mounts';
import type { DeployPlan } from '../spec/plan';
import { stateFilePath, updateState } from '../state/devState';
import { runDevcontainerCommands } from './devcontainerCommands';
import { classified, userFailure } from './failures';
import { composeFailure, pullAndUp } from './pullAndUp';
import { openRegistryAccess } from './registryAccess';
import type { DeployActivities, LifecycleActivities } from './types';
import { rollbackStackOn } from './rollback';
import { uploadStackTo, type UploadProgress } from './upload';
import { describeFailure, stackStates, waitForStack } from './verify';
import { heartbeat, heartbeating } from './activityContext';
import { VmContext } from './vmContext';

type StackActivities = Pick<DeployActivities, 'uploadStack' | 'composeUp' | 'rollbackStack' | 'verifyStack' | 'runDevcontainerCommands'> & Pick<LifecycleActivities, 'stackStatus'>;

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

  return {
    uploadStack: ({ plan, vm }) =>
      classified('ConfigInvalid', async () => {
        const session = await ctx.session(plan, vm);
        const secretValues = await secretsOf(plan, plan.stack.secrets);
        let progress: UploadProgress = { bytes: 0, totalBytes: 0 };
        // Heartbeats carry the bytes sent: the CLI shows them, and a retry could start from them.
        return heartbeating(
          () => ({ step: 'upload', ...progress }),
          (beat) => uploadStackTo(session, plan, secretValues, (p) => ((progress = p), beat())),
        );
      }),

    composeUp: ({ plan, vm, skipPush, release }) =>
      classified('ComposeInvalid', async () => {
        const session = await ctx.session(plan, vm);
        try {
          const closeAccess = await openRegistryAccess(session, plan, await registryCredentials(plan));
          try {
            await heartbeating('compose', (onLine) => pullAndUp(session, plan, { skipPush, release: release ?? UNNAMED_RELEASE, onLine }));
          } finally {
            await closeAccess();
          }
        } catch (error) {
          throw composeFailure(error, vm.name);
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
      classified('StackUnhealthy', async () => {
        const session = await ctx.session(plan, vm);
        const outcome = await waitForStack(session, plan, {
          timeoutMs: ctx.deps.verifyTimeoutMs ?? 180_000,
          logTail: ctx.deps.logTail ?? 40,
          secretValues: Object.values(await secretsOf(plan, plan.stack.secrets)),
          onPoll: () => heartbeat('verify'),
        });
        await updateState(stateFilePath(plan.projectDir), (state) => {
          const entry = state.deployments[vm.name];
          if (entry) entry.containers = outcome.containers.map(({ ports: _ports, ...c }) => c);
        });
        if (outcome.failing) {
          const { services, logs } = outcome.failing;
          throw userFailure('StackUnhealthy', `${vm.name}: ${describeFailure(outcome.containers, services)}\n${logs}`);
        }
        return outcome.containers;
      }),

    runDevcontainerCommands: ({ plan, vm }) =>
      classified('DevcontainerCommandFailed', async () => ({
        ran: await heartbeating('devcontainer commands', async (onLine) => runDevcontainerCommands(await ctx.session(plan, vm), plan, vm.name, onLine)),
      })),

    stackStatus: ({ plan, vm }) =>
      classified('ProviderError', async () => {
        if ((await findVm(plan, vm.name))?.status !== 'running') return [];
        const session = await ctx.session(plan, vm);
        const present = await session.exec(['test', '-f', `${stackDir(plan.stack.projectName)}/compose.yaml`], { root: true });
        if (present.exitCode !== 0) return [];
        return (await stackStates(session, plan)).map(({ exitCode: _exitCode, ...rest }) => rest);
      }),
  };
}
