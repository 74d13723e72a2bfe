import type { DeployInput } from '../domain/deploy';
import type { BuiltImage, PushedImage } from '../domain/images';
import type { ContainerState } from '../domain/stack';
import type { VmHandle, VmRef } from '../domain/vm';
import type { ImageActivityProgress } from '../images/progress';
import type { TimeoutOverride, TimeoutOverrides, TimeoutProfile } from '../spec/config';
import type { VmQueues } from './queues';
import type { DeployPlan, WorkspaceSeed } from '../spec/plan';

/** Timeout/retry profiles by name; a deploy may override any field of any profile (config `temporal.timeouts`). */
export type ProfileName = TimeoutProfile;
export type ProfileOverride = TimeoutOverride;
export type ProfileOverrides = TimeoutOverrides;

export interface DeployWorkspacesInput extends DeployInput {
  /** The project identity (plan.identity, resolved by the CLI): the operation lock is taken on it first. */
  identity?: string;
  /** The task queue bound to the machine that holds the source: plan, build, push run there. */
  sourceTaskQueue: string;
  profiles?: ProfileOverrides;
}

export interface DeployWorkspaceInput {
  plan: DeployPlan;
  vm: VmRef;
  skipPush: boolean;
  profiles?: ProfileOverrides;
  /**
   * Report to the parent and wait for its commit before returning (src/workflows/handoff.ts).
   * Absent in histories recorded before it, which replay unchanged.
   */
  holdForCommit?: boolean;
  /** The deploy's lock workflow, told when this child closes (src/workflows/lock.ts); absent before it. */
  lock?: string;
  /**
   * Started before the build (src/workflows/images.ts): pull the images that are not built, then
   * wait for the parent's images signal before composeUp. Absent in histories recorded before it.
   */
  awaitImages?: boolean;
  /** Steps that must run on the source machine (src/workflows/queues.ts); absent before LOCAL_ON_SOURCE_PATCH. */
  queues?: VmQueues;
  /**
   * With awaitImages: the workspace and the stack's files come in the seed signal
   * (src/workflows/images.ts SEED_PATCH): uploadStack sends only the plan's own files, seedWorkspace the rest.
   */
  fromSeed?: boolean;
  /** Every VM step of this child runs on this queue (the source's, for --skip-push); absent: the workflow's own. */
  vmTaskQueue?: string;
}

export interface LifecycleInput {
  plan: DeployPlan;
  /** The source machine's queue, for a provider that exists only there (local VMs); absent: the workflow's own. */
  vmTaskQueue?: string;
  /** Only these VMs (default: every VM of the deployment); a name that is not there is reported as failed. */
  names?: string[];
  profiles?: ProfileOverrides;
}

export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'compensated' | 'skipped';

export interface StepProgress {
  name: string;
  state: StepState;
  /** Filled by the client from describe() while the step's activity is retrying. */
  attempt?: number;
  startedAt?: string;
  finishedAt?: string;
  message?: string;
  /** Filled by the client from the running activity's last heartbeat: the build's current steps, the push's layers. */
  live?: ImageActivityProgress;
}

export type VmState = 'pending' | 'running' | 'deployed' | 'failed' | 'cancelled';

/** What the `progress` query of a DeployWorkspace child returns. */
export interface WorkspaceProgress {
  name: string;
  workflowId: string;
  state: VmState;
  steps: StepProgress[];
  vm?: VmHandle;
  containers?: ContainerState[];
  error?: string;
  /** After a failure or cancel: whether its compensation removed the VM or kept it (found, not made by this run, or on_failure: keep). */
  cleanup?: 'removed' | 'kept';
}

export type DeployPhase = 'plan' | 'build' | 'push' | 'vms' | 'done' | 'partial' | 'failed' | 'cancelled';

/** What the `progress` query of DeployWorkspaces returns; `vms[].steps` is filled by the client from the children. */
export interface DeployProgress {
  workflowId: string;
  /** Set by the client when no worker answered the query: steps and phase are then what the server alone knows. */
  waitingForWorker?: boolean;
  service?: string;
  tag?: string;
  phase: DeployPhase;
  steps: StepProgress[];
  vms: WorkspaceProgress[];
}

export interface WorkspaceResult {
  vm: VmHandle;
  containers: ContainerState[];
}

export type DeployOutcome = 'deployed' | 'partial' | 'failed';

export interface DeploySummary {
  workflowId: string;
  service: string;
  tag: string;
  outcome: DeployOutcome;
  images: BuiltImage[];
  pushed: PushedImage[];
  /** The workspace seed the VMs were given (absent with --skip-push, before SEED_PATCH, or when the stack has nothing to seed). */
  seed?: WorkspaceSeed;
  vms: WorkspaceProgress[];
}

export interface LifecycleSummary {
  service: string;
  vms: { name: string; state: 'done' | 'failed'; error?: string; vm?: VmHandle; containers?: ContainerState[] }[];
}
