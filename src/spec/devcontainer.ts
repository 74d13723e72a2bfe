import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse, ParseError, printParseErrorCode } from 'jsonc-parser';
import { configError } from '../errors';
import { devcontainerSchema, RawDevcontainer } from './devcontainer-schema';
import { LifecycleStep, lifecycleSteps, substitute, substituteDeep } from './devcontainer-vars';
import { ContainerSettings, containerSettings } from './devcontainer-container';
import { SpecWarning, unappliedKeys } from './devcontainer-keys';
import { ownMetadata } from './features-stage';
import type { HostRequirements } from './host-requirements';
import { displayPath } from './paths';
import type { DevcontainerKind, WaitFor } from './plan';
import { schemaError } from './schema-errors';

export const DEVCONTAINER_LOCATIONS = ['.devcontainer/devcontainer.json', '.devcontainer.json'];

export interface Devcontainer {
  /** Absolute path of devcontainer.json; `shown` is the same path as messages print it. */
  file: string;
  shown: string;
  kind: DevcontainerKind;
  image?: string;
  /** Absolute paths; dockerfile and context are relative to the devcontainer.json folder in the file. */
  build?: { dockerfile: string; context: string; args: Record<string, string>; target?: string; cacheFrom: string[] };
  compose?: { files: string[]; service: string; runServices?: string[] };
  workspaceFolder: string;
  containerEnv: Record<string, string>;
  remoteEnv: Record<string, string | null>;
  remoteUser?: string;
  forwardPorts: (number | string)[];
  /** Runs on the source machine before the build. */
  initializeCommand: LifecycleStep[];
  onCreateCommand: LifecycleStep[];
  updateContentCommand: LifecycleStep[];
  /** portsAttributes' labels by port ("3000", "db:5432"), shown by `kamal-dev forward`. */
  portLabels: Record<string, string>;
  postCreateCommand: LifecycleStep[];
  postStartCommand: LifecycleStep[];
  postAttachCommand: LifecycleStep[];
  waitFor?: WaitFor;
  /** Replace the primary service's command with a long sleep (default: yes for image/Dockerfile, no for compose). */
  overrideCommand: boolean;
  hostRequirements?: HostRequirements;
  /** `features` as written, and `overrideFeatureInstallOrder`: resolved by the features loader. */
  features: Record<string, unknown>;
  overrideFeatureInstallOrder: string[];
  /** devcontainer.json's own entry of the `devcontainer.metadata` image label. */
  metadata: Record<string, unknown>;
  /** mounts, capAdd, runArgs, ... for the primary container. */
  container: ContainerSettings;
  /** Keys of the file that kamal-dev does not apply. */
  warnings: SpecWarning[];
}

/** `--from PATH` (a file or a folder holding devcontainer.json), else the two standard places. */
export function locateDevcontainer(projectDir: string, explicit?: string): string {
  if (explicit) {
    const path = resolve(projectDir, explicit);
    const file = existsSync(path) && statSync(path).isDirectory() ? resolve(path, 'devcontainer.json') : path;
    if (!existsSync(file)) throw configError('devcontainer.json not found', { file: displayPath(projectDir, file), description: 'Check the path given with --from or image.devcontainer.' });
    return file;
  }
  const found = DEVCONTAINER_LOCATIONS.map((p) => resolve(projectDir, p)).find((p) => existsSync(p));
  if (!found) {
    throw configError(`no devcontainer.json found in ${projectDir}`, {
      description: `Looked at ${DEVCONTAINER_LOCATIONS.join(' and ')}. Add one, or point at it with --from PATH or image.devcontainer in config/dev.yml.`,
    });
  }
  return found;
}

export function parseJsonc(text: string, shown: string): unknown {
  const errors: ParseError[] = [];
  const data: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const { error, offset } = errors[0];
    const before = text.slice(0, offset).split('\n');
    throw configError(`invalid JSON at line ${before.length}, column ${before[before.length - 1].length + 1}: ${printParseErrorCode(error)}`, {
      file: shown,
      description: 'devcontainer.json is JSON with comments and trailing commas allowed.',
    });
  }
  return data;
}

export function loadDevcontainer(file: string, projectDir: string, env: NodeJS.ProcessEnv = process.env): Devcontainer {
  const shown = displayPath(projectDir, file);
  const data = parseJsonc(readFileSync(file, 'utf8'), shown);
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw configError('expected a JSON object', { file: shown });
  const parsed = devcontainerSchema.safeParse(data);
  if (!parsed.success) throw schemaError(parsed.error, data, shown);
  // workspaceFolder may itself use local variables; everything else may use the resolved folder.
  const local = { localWorkspaceFolder: projectDir, containerWorkspaceFolder: '${containerWorkspaceFolder}', env };
  const workspaceFolder = substitute(parsed.data.workspaceFolder ?? `/workspaces/${basename(projectDir)}`, local);
  const raw = substituteDeep(parsed.data, { ...local, containerWorkspaceFolder: workspaceFolder });
  const dir = dirname(file);
  const kind = kindOf(raw, shown);
  const container = containerSettings(raw, kind, { file: shown, projectDir, devcontainerDir: dir });
  const common = {
    file,
    shown,
    kind,
    workspaceFolder: raw.workspaceFolder ?? workspaceFolder,
    containerEnv: raw.containerEnv ?? {},
    remoteEnv: raw.remoteEnv ?? {},
    remoteUser: raw.remoteUser,
    forwardPorts: raw.forwardPorts ?? [],
    initializeCommand: lifecycleSteps(raw.initializeCommand),
    onCreateCommand: lifecycleSteps(raw.onCreateCommand),
    updateContentCommand: lifecycleSteps(raw.updateContentCommand),
    portLabels: Object.fromEntries(Object.entries(raw.portsAttributes ?? {}).flatMap(([port, a]) => (a.label ? [[port, a.label]] : []))),
    postCreateCommand: lifecycleSteps(raw.postCreateCommand),
    postStartCommand: lifecycleSteps(raw.postStartCommand),
    postAttachCommand: lifecycleSteps(raw.postAttachCommand),
    waitFor: raw.waitFor,
    overrideCommand: raw.overrideCommand ?? kind !== 'compose',
    hostRequirements: raw.hostRequirements,
    metadata: ownMetadata(raw as Record<string, unknown>),
    features: raw.features ?? {},
    overrideFeatureInstallOrder: raw.overrideFeatureInstallOrder ?? [],
    container,
    warnings: [...unappliedKeys(data as Record<string, unknown>, kind, shown), ...container.warnings],
  };
  if (kind === 'compose') {
    const files = [raw.dockerComposeFile ?? []].flat().map((f, i, all) => {
      const path = resolve(dir, f);
      if (!existsSync(path)) throw configError(`compose file ${f} does not exist (looked at ${path})`, { file: shown, key: all.length > 1 || Array.isArray(raw.dockerComposeFile) ? `dockerComposeFile[${i}]` : 'dockerComposeFile' });
      return path;
    });
    return { ...common, compose: { files, service: raw.service!, runServices: raw.runServices } };
  }
  if (kind === 'dockerfile') {
    const context = resolve(dir, raw.build?.context ?? raw.context ?? '.');
    const dockerfile = resolve(dir, (raw.build?.dockerfile ?? raw.dockerFile)!);
    const key = raw.build?.dockerfile ? 'build' : '';
    if (!existsSync(context) || !statSync(context).isDirectory()) throw configError(`build context ${context} is not a folder`, { file: shown, key: key ? 'build.context' : 'context' });
    if (!existsSync(dockerfile)) throw configError(`Dockerfile ${dockerfile} does not exist`, { file: shown, key: key ? 'build.dockerfile' : 'dockerFile' });
    const args = Object.fromEntries(Object.entries(raw.build?.args ?? {}).map(([k, v]) => [k, String(v)]));
    return { ...common, build: { dockerfile, context, args, target: raw.build?.target, cacheFrom: [raw.build?.cacheFrom ?? []].flat() } };
  }
  return { ...common, image: raw.image };
}

function kindOf(raw: RawDevcontainer, shown: string): DevcontainerKind {
  if (raw.dockerComposeFile) {
    if (!raw.service) throw configError('is required with dockerComposeFile (the compose service you work in)', { file: shown, key: 'service' });
    return 'compose';
  }
  if (raw.build?.dockerfile || raw.dockerFile) return 'dockerfile';
  if (raw.build) throw configError('build needs a dockerfile', { file: shown, key: 'build.dockerfile' });
  if (raw.image) return 'image';
  throw configError('needs one of "image", "build.dockerfile" or "dockerComposeFile"', {
    file: shown,
    description: 'A devcontainer runs an image, builds a Dockerfile, or starts a Docker Compose stack with "service" as the container you work in.',
  });
}
