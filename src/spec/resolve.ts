import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { normalizeCompose } from '../docker/compose-config';
import { configError } from '../errors';
import { applyConfigBuild, composeBuilds } from './compose-builds';
import { readEnvFileSources } from './compose-env-files';
import { placeholderEnv } from './compose-secrets';
import { SINGLE_SERVICE, singleServiceModel, withPrimaryContainer } from './compose-synth';
import { transformStack } from './compose';
import { DevConfig, loadConfig } from './config';
import { registryNamespace } from './config-registry';
import { Devcontainer, loadDevcontainer, locateDevcontainer } from './devcontainer';
import type { SpecWarning } from './devcontainer-keys';
import { remoteFeatureFetcher } from './features-fetch';
import { featureLock, readFeatureLock, writeFeatureLock } from './features-lock';
import { LoadedFeature, loadFeatures } from './features-load';
import { featureCommands, featureContainerSettings, featureEntrypoints, featuresOnlyBuild, featuresStage } from './features-plan';
import { assertValidTag, imageRepository, imageRef } from './image-ref';
import { checkHostRequirements } from './host-requirements';
import { displayPath } from './paths';
import type { LifecycleStep } from './devcontainer-vars';
import { lifecyclePlan } from './lifecycle';
import type { DeployPlan, RegistryPlan } from './plan';
import { secretNamesOf, vmNames } from './resolve-parts';
import { DEFAULT_SECRETS_PATH, lazySecretResolver, readLiteralSecret, readSecretNames } from './secrets';
import { computeTag } from './tag';
import { MAX_VMS, wholeNumber } from './whole-number';
import { composeVariables, devcontainerVariables, dotEnvNames, storedEnvironmentValues } from './interpolated';
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
  /** Records the fetched features' digests in devcontainer-lock.json (`build`, `deploy`; `plan` only reads it). */
  writeLockfile?: boolean;
  /** Runs devcontainer.json's initializeCommand (`build`, `deploy`), before compose and env files are read. */
  initialize?: (steps: LifecycleStep[], where: { projectDir: string; file: string }) => Promise<void>;
}

/** The plan plus what `kamal-dev plan` shows besides it. */
export interface ResolvedSpec {
  plan: DeployPlan;
  config: DevConfig;
  devcontainer: Devcontainer;
  /** Absolute compose files in merge order (empty for image/Dockerfile devcontainers). */
  composeFiles: string[];
  /** Variables taken from the environment (or Compose's .env) that are not secrets: their values are stored in the plan. */
  storedEnvironment: string[];
  /** devcontainer.json's features, fetched, checked and in install order. */
  features: LoadedFeature[];
  /** What kamal-dev does not apply, one line each in `plan` and `deploy` (never in the plan: it travels through Temporal). */
  warnings: SpecWarning[];
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
  // vms.count is checked with the rest of config/dev.yml; a count given (the CLI's --count, a workflow's input) here.
  const count = options.count !== undefined ? wholeNumber(options.count, '--count', MAX_VMS) : (config.vmCount ?? 1);
  // git runs while the devcontainer, its features and `docker compose config` are read (a dirty tree
  // takes four git commands); its failure, if any, is said where the tag is awaited.
  const tagging = options.tag !== undefined ? Promise.resolve(assertValidTag(options.tag, { key: '--tag' })) : computeTag(projectDir);
  tagging.catch(() => undefined);
  const secretsFile = join(projectDir, DEFAULT_SECRETS_PATH);
  const registry = registryPlan(config, configShown, (name) => env[name] || readLiteralSecret(secretsFile, name));

  const secretNames = secretNamesOf(config, readSecretNames(secretsFile), env);
  const placeholders = placeholderEnv(secretNames);
  const devcontainerFile = locateDevcontainer(projectDir, options.devcontainerPath ?? config.devcontainer);
  const devcontainer = loadDevcontainer(devcontainerFile, projectDir, { ...env, ...placeholders });

  // Bad features stop here, before any build or VM.
  const features = await loadFeatures(devcontainer.features, devcontainer.overrideFeatureInstallOrder, {
    file: devcontainer.shown,
    devcontainerDir: dirname(devcontainer.file),
    fetch: remoteFeatureFetcher({ registry, secretsFile, resolveSecret: lazySecretResolver(secretsFile, env), env, signal: options.signal }),
    lock: readFeatureLock(devcontainer.file, devcontainer.shown),
  });
  if (options.writeLockfile) writeFeatureLock(devcontainer.file, featureLock(features));
  // The tag is of the source as it was before initializeCommand, which may write into the project.
  if (options.initialize && devcontainer.initializeCommand.length) {
    await tagging;
    await options.initialize(devcontainer.initializeCommand, { projectDir, file: devcontainer.shown });
  }
  const show = (file: string) => displayPath(projectDir, file);
  const composeFiles = devcontainer.compose?.files ?? [];
  const primaryService = devcontainer.compose?.service ?? SINGLE_SERVICE;
  const featureSettings = featureContainerSettings(features, { file: devcontainer.shown, projectDir, devcontainerDir: dirname(devcontainer.file) });
  const baseModel = devcontainer.compose
    ? await normalizeCompose(composeFiles, { env: { ...stringsOf(env), ...placeholders }, show, signal: options.signal })
    : singleServiceModel(devcontainer, projectDir);
  const model = withPrimaryContainer(withPrimaryContainer(baseModel, primaryService, featureSettings), primaryService, devcontainer.container);
  const tag = await tagging;
  const imageName = config.imageName && !config.imageName.includes('/') ? `${registry.namespace}/${config.imageName}` : config.imageName;
  const repoInput = { server: registry.server, namespace: registry.namespace, service, imageName };
  // Features on a primary service that only names an image: kamal-dev builds that image with them.
  const featuresBase = features.length && !model.services?.[primaryService]?.build ? (model.services?.[primaryService]?.image as string | undefined) : undefined;
  const images = Object.fromEntries(
    Object.entries(model.services ?? {})
      .filter(([name, s]) => s.build || (featuresBase && name === primaryService))
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
    featureEntrypoints: featureEntrypoints(features),
    runServices: devcontainer.compose?.runServices,
    profiles: { names: config.composeProfiles, file: configShown },
    envFiles: devcontainer.compose ? readEnvFileSources(composeFiles) : {},
    devcontainerFile: devcontainer.shown,
    publicPorts: config.publicPorts,
    configFile: configShown,
  });
  const deployed = (stack.compose.services ?? {}) as Record<string, unknown>;
  const builds = composeBuilds(model.services ?? {}, (model.secrets ?? {}) as never, images, { file: composeFiles[0] ? show(composeFiles[0]) : devcontainer.shown })
    .filter((b) => deployed[b.service])
    .map((b) => (b.service === primaryService ? applyConfigBuild(b, config.build, b.image.slice(0, b.image.lastIndexOf(':'))) : b));
  if (featuresBase) builds.push(featuresOnlyBuild(primaryService, dirname(devcontainer.file), images[primaryService]));
  const withStage = builds.map((b) => (b.service === primaryService && features.length ? { ...b, features: featuresStage(features, devcontainer.metadata, featuresBase) } : b));

  const lifecycle = lifecyclePlan(devcontainer, featureCommands(features));
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
    builds: withStage,
    stack: { ...stack, ...(lifecycle ? { lifecycle } : {}), ...(devcontainer.initializeCommand.length ? { initialize: devcontainer.initializeCommand } : {}) },
    vms: vmNames(config.naming, service, count, configShown),
    provider: config.provider,
    ssh: config.ssh,
    onFailure: config.onFailure,
  };
  const hostWarnings = checkHostRequirements(devcontainer.hostRequirements, config.provider, { devcontainer: devcontainer.shown, config: configShown });
  const referenced = [...devcontainerVariables(readFileSync(devcontainerFile, 'utf8')), ...composeFiles.flatMap((f) => composeVariables(readFileSync(f, 'utf8')))];
  // Compose reads `.env` from its project directory: the first compose file's folder.
  const dotEnv = composeFiles[0] ? join(dirname(composeFiles[0]), '.env') : undefined;
  return {
    plan,
    config,
    devcontainer,
    composeFiles,
    storedEnvironment: storedEnvironmentValues(referenced, env, new Set(secretNames), dotEnvNames(dotEnv && existsSync(dotEnv) ? readFileSync(dotEnv, 'utf8') : undefined)),
    features,
    warnings: [...devcontainer.warnings, ...hostWarnings, ...featureSettings.warnings],
  };
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

/** `lookup` reads the registry user name (public: it is part of every image reference), never the password. */
function registryPlan(config: DevConfig, file: string, lookup: (name: string) => string | undefined): RegistryPlan {
  const { server, local, usernameSecret, passwordSecret } = config.registry;
  const namespace = registryNamespace(config.registry, config.imageName, usernameSecret ? lookup(usernameSecret) : undefined);
  if (!namespace) {
    throw configError(`is required for ${server}`, {
      file,
      key: 'registry.namespace',
      description: `Images are pushed as ${server}/NAMESPACE/SERVICE-dev:TAG; NAMESPACE defaults to the registry user name in ${usernameSecret ?? 'the username_env variable'}, which is not set. Export it (or add it to .kamal/secrets), or set registry.namespace (your user or organisation) or image.name: NAMESPACE/NAME.`,
    });
  }
  return { server, namespace, local, usernameSecret, passwordSecret };
}

function stringsOf(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
