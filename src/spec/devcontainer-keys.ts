import type { DevcontainerKind } from './plan';

/** Something in the input that kamal-dev does not apply: one line for people, naming file and key. */
export interface SpecWarning {
  file: string;
  key: string;
  message: string;
}

export function warningLine(warning: SpecWarning): string {
  return `warning: ${warning.file}: ${warning.key}: ${warning.message}`;
}

/** Keys with no meaning on a VM: never a warning. */
const QUIET = new Set(['$schema', 'name', 'customizations', 'shutdownAction', 'updateRemoteUserUID']);

/** Keys kamal-dev applies for every kind of devcontainer. */
const APPLIED = new Set([
  'image',
  'build',
  'dockerFile',
  'context',
  'dockerComposeFile',
  'service',
  'runServices',
  'workspaceFolder',
  'containerEnv',
  'remoteEnv',
  'remoteUser',
  'forwardPorts',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
  'initializeCommand',
  'onCreateCommand',
  'updateContentCommand',
  'waitFor',
  'overrideCommand',
  'mounts',
  'privileged',
  'capAdd',
  'securityOpt',
  'init',
  'containerUser',
  'hostRequirements',
  'overrideFeatureInstallOrder',
  'features',
]);

/** Applied for image and Dockerfile devcontainers; the reference CLI ignores them for Compose. */
const NOT_FOR_COMPOSE = new Set(['runArgs', 'workspaceMount', 'appPort']);

/** Keys of the spec that kamal-dev reads but does not apply (yet, or on a VM at all), with why. */
const NOT_APPLIED: Record<string, string> = {
  portsAttributes: 'not applied (port attributes are for editors that forward ports)',
  otherPortsAttributes: 'not applied (port attributes are for editors that forward ports)',
  userEnvProbe: 'not applied: lifecycle commands run with remoteEnv and the container environment only',
  secrets: 'not applied: kamal-dev reads secrets from .kamal/secrets',
};

const APPLIED_BUILD_KEYS = new Set(['dockerfile', 'context', 'args', 'target', 'cacheFrom']);

/** Variables that only have a value inside a running container: left in the value as written. */
const CONTAINER_VARIABLE = /\$\{(containerEnv:[^}]*|devcontainerId)\}/;

/**
 * One warning for every key of a parsed devcontainer.json that kamal-dev does not apply, in the
 * file's key order; quiet keys never warn. Pure: `data` is the parsed file, before substitution.
 */
export function unappliedKeys(data: Record<string, unknown>, kind: DevcontainerKind, file: string): SpecWarning[] {
  const warnings: SpecWarning[] = [];
  const warn = (key: string, message: string) => warnings.push({ file, key, message });
  for (const [key, value] of Object.entries(data)) {
    if (QUIET.has(key)) continue;
    if (key === 'build' && value && typeof value === 'object') {
      for (const inner of Object.keys(value)) if (!APPLIED_BUILD_KEYS.has(inner)) warn(`build.${inner}`, 'not applied');
    } else if (key === 'forwardPorts' && Array.isArray(value)) {
      if (kind === 'compose') warn(key, 'not published: publish ports in the compose file (or reach them through SSH)');
      else value.forEach((port, i) => typeof port === 'string' && warn(`forwardPorts[${i}]`, `"${port}" is not published: only ports of the devcontainer itself are`));
    } else if (NOT_FOR_COMPOSE.has(key)) {
      if (kind === 'compose') warn(key, 'not applied to a Docker Compose devcontainer (the reference CLI ignores it too): put it in the compose file');
    } else if (key in NOT_APPLIED) {
      warn(key, NOT_APPLIED[key]);
    } else if (!APPLIED.has(key)) {
      warn(key, 'unknown key, not applied');
    }
  }
  const warned = new Set(warnings.map((w) => w.key));
  const applied = Object.fromEntries(Object.entries(data).filter(([key]) => !QUIET.has(key) && !warned.has(key)));
  for (const path of containerVariablePaths(applied, '')) warn(path, '${containerEnv:...} and ${devcontainerId} have no value before the container runs: left as written');
  return warnings;
}

function containerVariablePaths(value: unknown, path: string): string[] {
  if (typeof value === 'string') return CONTAINER_VARIABLE.test(value) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => containerVariablePaths(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => containerVariablePaths(v, path ? `${path}.${k}` : k));
  return [];
}
