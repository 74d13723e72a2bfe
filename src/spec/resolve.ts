import { basename, join, resolve } from 'node:path';
import { normalizeCompose } from '../docker/compose-config';
import { configError } from '../errors';
import { applyConfigBuild, composeBuilds } from './compose-builds';
import { readEnvFileSources } from './compose-env-files';
import { placeholderEnv } from './compose-secrets';
import { SINGLE_SERVICE, singleServiceModel } from './compose-synth';
import { transformStack } from './compose';
import { DevConfig, loadConfig } from './config';
import { Devcontainer, loadDevcontainer, locateDevcontainer } from './devcontainer';
import { assertValidTag, imageRepository, imageRef } from './image-ref';
import { displayPath } from './paths';
import type { DeployPlan, LifecyclePlan, RegistryPlan } from './plan';
import { secretNamesOf, vmNames } from './resolve-parts';
import { DEFAULT_SECRETS_PATH, readSecretNames } from './secrets';
import { computeTag } from './tag';
import { projectIdentity } from '../state/identity';

export interface ResolveOptions {
  projectDir: string;
  /** Number of VMs; default config vms.count, else 1. */
  count?: number;
  tag?: string;
  /** --from PATH: devcontainer.json (or its folder), relative to the project. */
  devcontainerPath?: string;
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

/** The plan plus what `kamal-dev plan` shows besides it. */
export interface ResolvedSpec {
  plan: DeployPlan;
  config: DevConfig;
  devcontainer: Devcontainer;
  /** Absolute compose files in merge order (empty for image/Dockerfile devcontainers). */
  composeFiles: string[];
}

/** The DeployPlan of a project: no side effects besides reading files, `git` and `docker compose config`; no secret values. */
export async function resolvePlan(options: ResolveOptions): Promise<DeployPlan> {
  return (await resolveSpec(options)).plan;
}

export async function resolveSpec(options: ResolveOptions): Promise<ResolvedSpec> {
  const projectDir = resolve(options.projectDir);
  const env = options.env ?? process.env;
  const config = loadConfig(projectDir, { configPath: options.configPath, env });
  const configShown = displayPath(projectDir, config.file ?? join(projectDir, 'config/dev.yml'));
  const service = config.service ?? serviceFromFolder(projectDir);
  const count = options.count ?? config.vmCount ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > 100) throw configError(`expected a whole number from 1 to 100, got ${count}`, { key: '--count' });
  const tag = options.tag !== undefined ? assertValidTag(options.tag, { key: '--tag' }) : await computeTag(projectDir);
  const registry = registryPlan(config, configShown);

  const secretsFile = join(projectDir, DEFAULT_SECRETS_PATH);
  const placeholders = placeholderEnv(secretNamesOf(config, readSecretNames(secretsFile)));
  const devcontainerFile = locateDevcontainer(projectDir, options.devcontainerPath ?? config.devcontainer);
  const devcontainer = loadDevcontainer(devcontainerFile, projectDir, { ...env, ...placeholders });

  const show = (file: string) => displayPath(projectDir, file);
  const composeFiles = devcontainer.compose?.files ?? [];
  const model = devcontainer.compose
    ? await normalizeCompose(composeFiles, { env: { ...stringsOf(env), ...placeholders }, show, signal: options.signal })
    : singleServiceModel(devcontainer, projectDir);
  const primaryService = devcontainer.compose?.service ?? SINGLE_SERVICE;
  const imageName = config.imageName && !config.imageName.includes('/') ? `${registry.namespace}/${config.imageName}` : config.imageName;
  const repoInput = { server: registry.server, namespace: registry.namespace, service, imageName };
  const images = Object.fromEntries(
    Object.entries(model.services ?? {})
      .filter(([, s]) => s.build)
      .map(([name]) => [name, imageRef(imageRepository(repoInput, name, name === primaryService), tag, { file: configShown, key: 'image.name' })]),
  );
  const stack = transformStack({
    model,
    primaryService,
    projectDir,
    projectName: service,
    images,
    containerEnv: devcontainer.containerEnv,
    overrideCommand: devcontainer.overrideCommand,
    runServices: devcontainer.compose?.runServices,
    envFiles: devcontainer.compose ? readEnvFileSources(composeFiles) : {},
    devcontainerFile: devcontainer.shown,
  });
  const deployed = (stack.compose.services ?? {}) as Record<string, unknown>;
  const builds = composeBuilds(model.services ?? {}, (model.secrets ?? {}) as never, images, { file: composeFiles[0] ? show(composeFiles[0]) : devcontainer.shown })
    .filter((b) => deployed[b.service])
    .map((b) => (b.service === primaryService ? applyConfigBuild(b, config.build, b.image.slice(0, b.image.lastIndexOf(':'))) : b));

  const lifecycle = lifecyclePlan(devcontainer);
  if (stack.workspace && config.workspaceIncludesGit) stack.workspace.includeGit = true;
  const plan: DeployPlan = {
    projectDir,
    identity: projectIdentity(projectDir),
    configFile: config.file,
    secretsFile,
    kind: devcontainer.kind,
    service,
    registry,
    tag,
    builds,
    stack: lifecycle ? { ...stack, lifecycle } : stack,
    vms: vmNames(config.naming, service, count, configShown),
    provider: config.provider,
    ssh: config.ssh,
    onFailure: config.onFailure,
  };
  return { plan, config, devcontainer, composeFiles };
}

function lifecyclePlan(devcontainer: Devcontainer): LifecyclePlan | undefined {
  const { postCreateCommand: postCreate, postStartCommand: postStart } = devcontainer;
  if (postCreate.length === 0 && postStart.length === 0) return undefined;
  // A null remoteEnv value unsets a variable; an exec can only leave it out.
  const env = Object.fromEntries(Object.entries(devcontainer.remoteEnv).filter((e): e is [string, string] => e[1] !== null));
  return { workdir: devcontainer.workspaceFolder, ...(devcontainer.remoteUser ? { user: devcontainer.remoteUser } : {}), env, postCreate, postStart };
}

/** config `service`, else the project folder's name made into one (lowercase letters, digits, dashes). */
export function serviceFromFolder(projectDir: string): string {
  const name = basename(projectDir)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  if (!name) throw configError(`cannot derive a service name from the folder name "${basename(projectDir)}"`, { file: 'config/dev.yml', key: 'service', description: 'Set service: in config/dev.yml.' });
  return name;
}

function registryPlan(config: DevConfig, file: string): RegistryPlan {
  const { server, local, usernameSecret, passwordSecret } = config.registry;
  let namespace = config.registry.namespace;
  if (!namespace && config.imageName?.includes('/')) namespace = config.imageName.split('/')[0].toLowerCase();
  if (!namespace) {
    throw configError(`is required for ${server}`, {
      file,
      key: 'registry.namespace',
      description: `Images are pushed as ${server}/NAMESPACE/SERVICE-dev:TAG. Set registry.namespace (your user or organisation) or image.name: NAMESPACE/NAME.`,
    });
  }
  return { server, namespace, local, usernameSecret, passwordSecret };
}

function stringsOf(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
