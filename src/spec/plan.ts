/**
 * The resolved plan of a deploy: everything the workflow and activities need, computed from
 * config/dev.yml, devcontainer.json and the compose files. It travels through Temporal history, so
 * it holds secret NAMES only, never values.
 */
import type { ImageEntrypoint } from './compose-entrypoint';
import type { LifecycleStep } from './devcontainer-vars';

export type DevcontainerKind = 'image' | 'dockerfile' | 'compose';

export interface ImageBuild {
  /** The compose service this image is for (for image/dockerfile devcontainers: the primary service). */
  service: string;
  /** Absolute paths on the machine that holds the source. */
  context: string;
  dockerfile: string;
  args: Record<string, string>;
  target?: string;
  /** Build secret names; values come from .kamal/secrets or the environment on the worker. */
  secrets: string[];
  platform?: string;
  /** `--cache-from` sources: image references, or full buildx cache specs (`type=...`). */
  cacheFrom: string[];
  /**
   * With `build.cache`: the pushed image is also published under this reference, carrying an inline
   * layer cache that later builds, on any machine, read through `--cache-from`.
   */
  cacheImage?: string;
  /** The full reference this build is tagged and pushed as. */
  image: string;
  /** Dev Container Features installed on top (absent when devcontainer.json has none). */
  features?: FeaturesStage;
}

/**
 * The generated stage that installs features on the built image (or on `baseImage` for an image
 * devcontainer, which then has nothing else to build). The builder copies each feature's folder
 * into a build context of its own with its options file and builds `dockerfile` there.
 */
export interface FeaturesStage {
  baseImage?: string;
  dockerfile: string;
  features: { dir: string; source: string; env: string }[];
  /** The `devcontainer.metadata` label, as the reference CLI writes it. */
  metadata: string;
}

export interface RegistryPlan {
  /** Normalised host[:port]: ghcr.io, docker.io, localhost:5555, registry.example.com:5000. */
  server: string;
  /** The {user} part of image references. */
  namespace: string;
  /** kamal-dev's own registry container on localhost:5555: no credentials, reached from VMs through an SSH tunnel. */
  local: boolean;
  /** Secret names (not values) of the registry credentials, absent for the local registry. */
  usernameSecret?: string;
  passwordSecret?: string;
}

export interface UploadFile {
  /** Absolute local path. */
  source: string;
  /** Path relative to the stack folder on the VM. */
  target: string;
}

/**
 * The project folder, copied to the VM so the workspace bind mount has something to mount. The copy
 * is the developer's: the first deploy seeds it, later deploys leave it alone unless `sync` is set.
 */
export interface WorkspacePlan {
  source: string;
  /** Relative to the stack folder on the VM. */
  target: string;
  /** gitignore patterns, besides .gitignore and .kamal-dev-ignore (see src/spec/workspace-files.ts). */
  exclude: string[];
  /** config `workspace.include_git`: `.git` goes along. */
  includeGit?: boolean;
  /** `deploy --sync-workspace`: this deploy copies the local files over an existing copy. */
  sync?: boolean;
}

/**
 * The workspace copy and the stack's files as an image in the deployment's registry (src/images/seed.ts),
 * pushed from the source machine; a VM pulls it by digest, so no VM step reads this machine's files.
 */
export interface WorkspaceSeed {
  /** `repository@sha256:...`. */
  image: string;
  digest: string;
  /** False when the registry had this digest already (an unchanged tree). */
  pushed: boolean;
  /** Workspace files in it and their bytes. */
  files: number;
  bytes: number;
}

export interface StackPlan {
  /** Compose project name on the VM. */
  projectName: string;
  primaryService: string;
  /** The transformed compose document: build: replaced by image:, paths rewritten to the VM's copies. */
  compose: Record<string, unknown>;
  /** env files and other files the compose document points at, copied next to compose.yaml. */
  files: UploadFile[];
  /** The project folder, copied to the VM so the workspace bind mount has something to mount. */
  workspace?: WorkspacePlan;
  /** Secret names the stack needs at run time: written to a mode-600 env file on the VM. */
  secrets: string[];
  /** Bind mounts and files that are not copied, with the reason (shown to the user as warnings). */
  dropped: { source: string; reason: string }[];
  /** The primary service's features wrapper ends with its image's ENTRYPOINT (and CMD): each VM reads them from the pulled image. */
  imageEntrypoint?: ImageEntrypoint;
  /** Absent when devcontainer.json has no lifecycle command that runs on a VM. */
  lifecycle?: LifecyclePlan;
  /** initializeCommand: run on the source machine before the build (absent when there is none). */
  initialize?: LifecycleStep[];
}

/** The lifecycle step a VM must pass to count as deployed (devcontainer.json `waitFor`). */
export type WaitFor = 'initializeCommand' | 'onCreateCommand' | 'updateContentCommand' | 'postCreateCommand' | 'postStartCommand' | 'postAttachCommand';

/**
 * devcontainer.json's lifecycle commands, run on each VM in the primary service's container as
 * devcontainer tools run them: in the workspace folder, as remoteUser, with remoteEnv set for the
 * commands only. In order: onCreate, updateContent, postCreate (once per container), postStart
 * (each start). The optional keys appear only when the devcontainer has them, so plans without
 * them keep the shape recorded histories replay.
 */
export interface LifecyclePlan {
  workdir: string;
  user?: string;
  /** Values may hold secret placeholders (src/spec/compose-secrets.ts), filled in on the VM's worker only. */
  env: Record<string, string>;
  onCreate?: LifecycleStep[];
  updateContent?: LifecycleStep[];
  postCreate: LifecycleStep[];
  postStart: LifecycleStep[];
  /** Run when an interactive `kamal-dev ssh` attaches (src/cli/attach.ts), not by a deploy, `exec` or `forward`. */
  postAttach?: LifecycleStep[];
  /** Absent: postCreateCommand (kamal-dev's default; the spec's is updateContentCommand). */
  waitFor?: WaitFor;
  /** The secret names whose placeholders env and the commands hold (absent in plans recorded before it existed). */
  secrets?: string[];
}

export type ProviderConfig =
  | { type: 'docker'; image?: string; baseImage?: string }
  | { type: 'ssh'; hosts: { host: string; port?: number; user?: string }[] }
  | {
      type: 'upcloud';
      zone: string;
      plan: string;
      template?: string;
      apiUrl?: string;
      usernameSecret: string;
      passwordSecret: string;
    };

export interface SshSettings {
  user: string;
  port: number;
  /** Private key path as the source machine resolved it; the public key is `${keyPath}.pub`. */
  keyPath: string;
  /**
   * ssh.key_path as config/dev.yml writes it (`~` unexpanded): every worker resolves it on its own
   * filesystem (src/ssh/keys.ts). Absent in plans made before it existed: keyPath then.
   */
  keyPathSetting?: string;
  /**
   * `[host]:port` (or `host` on port 22) -> `type base64`: the host keys the source machine's
   * .kamal/known_hosts held when the plan was made (public data). A worker that does not hold the
   * project pins them, as the source pins its file; absent in plans made before they travelled.
   */
  hostKeys?: Record<string, string>;
  /**
   * Lifecycle commands (stop, start, remove), whose VMs were all reached before: a worker that does
   * not hold the project connects to no host outside hostKeys rather than trusting a first-seen key.
   */
  knownHostsOnly?: boolean;
}

export interface DeployPlan {
  projectDir: string;
  /**
   * The project identity (src/state/identity.ts): every VM carries it as the `kamal-dev.project`
   * label. (Plans recorded before it existed lack it; activities refuse those with a clear error.)
   */
  identity: string;
  configFile?: string;
  /** .kamal/secrets of this project (may not exist). */
  secretsFile: string;
  kind: DevcontainerKind;
  /** config `service`: names the deployment, its VMs and its images. */
  service: string;
  registry: RegistryPlan;
  tag: string;
  /** One per service that has a build; empty for an image: devcontainer. */
  builds: ImageBuild[];
  stack: StackPlan;
  vms: { name: string; index: number }[];
  provider: ProviderConfig;
  ssh: SshSettings;
  /** What a failed VM becomes: destroyed (default) or kept for debugging. */
  onFailure: 'destroy' | 'keep';
}
