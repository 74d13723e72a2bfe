import { basename } from 'node:path';
import { configError } from '../errors';
import type { ComposeModel } from '../docker/compose-config';
import type { EnvFileSources } from './compose-env-files';
import { ImageEntrypoint, primaryEntrypoint } from './compose-entrypoint';
import { rewriteMounts, remoteStackDir, WORKSPACE_EXCLUDES, workspaceTarget } from './compose-mounts';
import { privatePorts } from './compose-ports';
import { restoreSecretReferences } from './compose-secrets';
import { ActiveProfiles, selectServices } from './compose-services';
import type { StackPlan, UploadFile } from './plan';

type Service = Record<string, unknown>;

export interface StackInput {
  /** The normalised model (`docker compose config --format json`, or one synthesised for image/Dockerfile devcontainers). */
  model: ComposeModel;
  primaryService: string;
  projectDir: string;
  projectName: string;
  /** compose service -> the pushed reference of its image, for every service with `build:`. */
  images: Record<string, string>;
  containerEnv: Record<string, string>;
  overrideCommand: boolean;
  /** The features' `entrypoint`s in install order: run when the primary container starts, before its command. */
  featureEntrypoints?: string[];
  runServices?: string[];
  profiles?: ActiveProfiles;
  envFiles: Record<string, EnvFileSources>;
  /** Shown paths for messages. */
  devcontainerFile: string;
  /** config `public_ports` (SERVICE:PORT) and the file that sets it. */
  publicPorts?: string[];
  configFile?: string;
}

/** The stack subfolder for env files: they may hold secrets, so they are written mode 600 on the VM. */
export const ENV_FILES_FOLDER = 'env';

/** The PURE transform of a normalised Compose model into what one VM runs. */
export function transformStack(input: StackInput): StackPlan {
  const services = input.model.services ?? {};
  if (!services[input.primaryService]) {
    throw configError(`service "${input.primaryService}" is not in the compose model`, {
      file: input.devcontainerFile,
      key: 'service',
      description: `The compose files define: ${Object.keys(services).join(', ') || 'no services'}.`,
    });
  }
  const stackDir = remoteStackDir(input.projectName);
  const files = new FileUploads();
  const dropped: StackPlan['dropped'] = [];
  let usesWorkspace = false;
  let imageEntrypoint: ImageEntrypoint | undefined;
  const out: Record<string, Service> = {};
  for (const name of selectServices(services, input.primaryService, input.runServices, input.profiles)) {
    // Without `profiles:` the VM's `up -d`, `ps` and `down` all see exactly the services chosen here.
    const service: Service = Object.fromEntries(Object.entries(services[name]).filter(([key, v]) => v !== null && key !== 'build' && key !== 'profiles'));
    if (input.images[name]) {
      service.image = input.images[name];
      if (service.pull_policy === 'build') delete service.pull_policy;
    }
    if (Array.isArray(service.volumes)) {
      const mounts = rewriteMounts(service.volumes, input.projectDir, stackDir, name);
      service.volumes = mounts.volumes;
      usesWorkspace ||= mounts.usesWorkspace;
      dropped.push(...mounts.dropped);
    }
    shipEnvFiles(service, input.envFiles[name], files, stackDir);
    if (name === input.primaryService) {
      const escaped = Object.fromEntries(Object.entries(input.containerEnv).map(([k, v]) => [k, v.split('$').join('$$')]));
      service.environment = { ...(service.environment as object), ...escaped };
      const started = primaryEntrypoint(service, { featureEntrypoints: input.featureEntrypoints ?? [], overrideCommand: input.overrideCommand });
      imageEntrypoint = started.image;
      out[name] = started.service;
    } else {
      out[name] = service;
    }
  }
  const secrets = new Set<string>();
  const published = privatePorts(out, input.publicPorts ?? [], input.configFile ?? 'config/dev.yml');
  const compose = restoreSecretReferences({ ...topLevel(input.model, published, files, stackDir, secrets), name: input.projectName, services: published }, secrets);
  return {
    projectName: input.projectName,
    primaryService: input.primaryService,
    compose,
    files: files.list,
    workspace: usesWorkspace ? { source: input.projectDir, target: workspaceTarget(input.projectDir), exclude: WORKSPACE_EXCLUDES } : undefined,
    secrets: [...secrets].sort(),
    dropped,
    ...(imageEntrypoint ? { imageEntrypoint } : {}),
  };
}

class FileUploads {
  readonly list: UploadFile[] = [];
  /** The stack-relative target of a local file, the same target for the same file. */
  add(source: string, folder: string): string {
    const existing = this.list.find((f) => f.source === source);
    if (existing) return existing.target;
    const target = `${folder}/${this.list.length + 1}-${basename(source)}`;
    this.list.push({ source, target });
    return target;
  }
}

function shipEnvFiles(service: Service, sources: EnvFileSources | undefined, files: FileUploads, stackDir: string): void {
  if (!sources || sources.files.length === 0) return;
  const environment = { ...(service.environment as Record<string, unknown>) };
  for (const file of sources.files) for (const key of file.keys) if (!sources.explicitKeys.includes(key)) delete environment[key];
  service.environment = environment;
  service.env_file = sources.files.map((f) => `${stackDir}/${files.add(f.path, ENV_FILES_FOLDER)}`);
}

/** Top-level keys: names Compose derived from the local project name dropped; secrets/configs trimmed to what services use. */
function topLevel(model: ComposeModel, services: Record<string, Service>, files: FileUploads, stackDir: string, secrets: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const localName = typeof model.name === 'string' ? model.name : '';
  for (const [key, value] of Object.entries(model)) {
    if (key === 'name' || key === 'services' || value === null) continue;
    if (key === 'secrets' || key === 'configs') {
      const used = new Set(Object.values(services).flatMap((s) => ((s[key] as { source: string }[]) ?? []).map((r) => r.source)));
      const kept = Object.entries(value as Record<string, Record<string, unknown>>).filter(([name]) => used.has(name));
      if (kept.length) out[key] = Object.fromEntries(kept.map(([name, def]) => [name, shipDefinition(def, name, localName, files, stackDir, secrets)]));
      continue;
    }
    if (key === 'volumes' || key === 'networks') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, Record<string, unknown>>).map(([name, def]) => [name, withoutDerivedName(def, name, localName)]));
      continue;
    }
    out[key] = value;
  }
  return out;
}

function withoutDerivedName(def: Record<string, unknown>, name: string, localName: string): Record<string, unknown> {
  if (!def || def.external || def.name !== `${localName}_${name}`) return def;
  const { name: _derived, ...rest } = def;
  return rest;
}

function shipDefinition(def: Record<string, unknown>, name: string, localName: string, files: FileUploads, stackDir: string, secrets: Set<string>): Record<string, unknown> {
  const rest = withoutDerivedName(def, name, localName);
  if (typeof rest.environment === 'string') secrets.add(rest.environment);
  if (typeof rest.file === 'string') return { ...rest, file: `${stackDir}/${files.add(rest.file, 'files')}` };
  return rest;
}
