import type { DestroyOutcome } from '../providers/types';
import type { DeployInput } from '../domain/deploy';
import type { BuiltImage, PushedImage } from '../domain/images';
import type { ContainerState, FailedCommand } from '../domain/stack';
import type { VmHandle, VmRef } from '../domain/vm';
import type { DeployPlan, WorkspaceSeed } from '../spec/plan';

/**
 * Every step of a deploy, as the workflows see them. Inputs and outputs are stored in Temporal
 * history: no secret values, ever. Implementations resolve secret names on the worker.
 */
export interface DeployActivities {
  planDeploy(input: DeployInput): Promise<DeployPlan>;
  buildImages(input: { plan: DeployPlan; buildId: string; noCache?: boolean }): Promise<BuiltImage[]>;
  /**
   * With --skip-build: the plan's images must already exist on the source machine (to push them, or to
   * transfer them with skipPush). Fails with a config error naming the missing images before any VM is made.
   */
  checkImages(input: { plan: DeployPlan }): Promise<BuiltImage[]>;
  /** Compensation: gives every name this build wrote back to the image it held before (see src/images/build-journal.ts). */
  removeBuildImages(input: { buildId: string }): Promise<void>;
  pushImages(input: { plan: DeployPlan; images: BuiltImage[] }): Promise<PushedImage[]>;
  /**
   * Source machine: the workspace copy and the stack's files as a content-addressed image in the
   * plan's registry (src/images/seed.ts); an unchanged tree is not sent again (`pushed: false`).
   */
  pushWorkspaceSeed(input: { plan: DeployPlan }): Promise<WorkspaceSeed>;
  /**
   * Idempotent: finds this project's VM of that name, else creates it marked `createdBy` (the
   * provisioning workflow's id); the handle says which. A VM of that name that belongs to another
   * project identity (or to none) fails it, non-retryably, and is left untouched.
   */
  provisionVm(input: { plan: DeployPlan; vm: VmRef; createdBy?: string }): Promise<VmHandle>;
  /**
   * Destroys this project's VM of that name; with `createdBy` (a compensation) only a VM that run
   * made: a found one is `kept`. A VM that is already gone is a success.
   */
  destroyVm(input: { plan: DeployPlan; vm: VmRef; createdBy?: string }): Promise<{ outcome: DestroyOutcome }>;
  /** Returns the host key of the first authenticated session (older workflows ignore it; see VmHandle.hostKey). */
  waitForSsh(input: { plan: DeployPlan; vm: VmHandle }): Promise<{ hostKey?: string } | void>;
  bootstrapVm(input: { plan: DeployPlan; vm: VmHandle }): Promise<{ installed: boolean; docker: string; compose: string }>;
  /**
   * The new stack staged beside the running one (nothing running changes); the workspace copy seeded
   * when the VM has none, else kept (or with plan.stack.workspace.sync staged to be copied over it).
   * Heartbeats carry `{ step: 'upload', bytes, totalBytes }`.
   */
  uploadStack(input: { plan: DeployPlan; vm: VmHandle; fromSeed?: boolean }): Promise<{ stackDir: string; workspace?: string; bytes?: number }>;
  /**
   * With the deploy's workspace seed: pulls it (registry login or tunnel), puts its stack files into
   * the staged release and seeds the workspace copy when the VM has none (else keeps it, or with
   * plan.stack.workspace.sync stages the copy-over that the swap applies). Nothing running changes.
   */
  seedWorkspace(input: { plan: DeployPlan; vm: VmHandle; seed: WorkspaceSeed }): Promise<{ workspace?: string }>;
  /**
   * Registry login or tunnel, then the staged stack's images of `services` pulled (those that are not
   * built: they can come down while the source machine builds), beside the built ones the registry
   * already serves (a push that ended first); images the VM holds at the registry's digest are not
   * pulled (with none left, no tunnel or login). Nothing running changes; on a VM that has never run
   * the stack, the unbuilt services that need nothing else are started (`started`; histories from
   * before returned nothing).
   */
  pullImages(input: { plan: DeployPlan; vm: VmHandle; services: string[] }): Promise<{ started: string[] } | void>;
  /**
   * Registry login or tunnel (or image transfer with skipPush), pull the staged stack's images (but
   * those of `pulled`, which pullImages brought already, and those the VM holds at the registry's
   * digest), then swap it in (keeping the one it replaces under `release`) and up -d; `unchanged`
   * when the stack already ran as released and was left running (histories before it returned nothing).
   */
  composeUp(input: { plan: DeployPlan; vm: VmHandle; skipPush: boolean; release?: string; pulled?: string[] }): Promise<{ unchanged: boolean } | void>;
  /**
   * Compensation: the stack that composeUp of `release` swapped out back in place, with the images
   * it ran, healthy; false when that release swapped nothing out (first deploy, or it never got there).
   */
  rollbackStack(input: { plan: DeployPlan; vm: VmHandle; release: string }): Promise<{ rolledBack: boolean }>;
  /** Every service running, healthy where it has a healthcheck; fails with the failing services' logs. */
  verifyStack(input: { plan: DeployPlan; vm: VmHandle }): Promise<ContainerState[]>;
  /**
   * devcontainer.json's postCreateCommand (once per container) and postStartCommand (once per start)
   * in the primary service's container; returns the names of those that ran.
   */
  /** `failed`: hooks after waitFor that failed (the VM still counts as deployed); absent when none did. */
  runDevcontainerCommands(input: { plan: DeployPlan; vm: VmHandle }): Promise<{ ran: string[]; failed?: string[] }>;
}

/** stop/start/remove as durable workflows; the CLI resolves the plan locally and passes it in. */
export interface LifecycleActivities {
  listVms(input: { plan: DeployPlan }): Promise<VmHandle[]>;
  stopVm(input: { plan: DeployPlan; vm: VmRef }): Promise<void>;
  startVm(input: { plan: DeployPlan; vm: VmRef }): Promise<VmHandle>;
  /** `docker compose down -v` and the stack folder; a VM or stack that is gone is a success. */
  removeStack(input: { plan: DeployPlan; vm: VmHandle }): Promise<void>;
  stackStatus(input: { plan: DeployPlan; vm: VmHandle }): Promise<ContainerState[]>;
  /** Lifecycle commands that failed after waitFor (or on attach), as recorded on the VM; none for a VM that is not running. */
  commandFailures(input: { plan: DeployPlan; vm: VmHandle }): Promise<FailedCommand[]>;
  /** `kamal-dev adopt`: makes a VM of another identity (or none) of that name this project's. */
  adoptVm(input: { plan: DeployPlan; name: string }): Promise<VmHandle>;
}

export type Activities = DeployActivities & LifecycleActivities;
