import { posix } from 'node:path';
import type { ContainerState } from '../domain/stack';

/** One stack on a VM: its compose project, its folder (holding compose.yaml) and, when it needs secrets, the env file they are interpolated from. */
export interface StackRef {
  project: string;
  dir: string;
  /** Default: compose.yaml in `dir`; a staged release's file is elsewhere (src/remote/stackRelease.ts). */
  file?: string;
  envFile?: string;
}

export function composeArgv(stack: StackRef, ...args: string[]): string[] {
  const envFile = stack.envFile ? ['--env-file', stack.envFile] : [];
  return ['docker', 'compose', '-p', stack.project, '--project-directory', stack.dir, '-f', stack.file ?? posix.join(stack.dir, 'compose.yaml'), ...envFile, ...args];
}

export const composePull = (stack: StackRef, services: string[] = []) => composeArgv(stack, 'pull', ...services);
export const composeUp = (stack: StackRef) => composeArgv(stack, 'up', '-d', '--remove-orphans');
export const composePs = (stack: StackRef) => composeArgv(stack, 'ps', '--all', '--format', 'json');
export const composeLogs = (stack: StackRef, tail: number, services: string[] = []) =>
  composeArgv(stack, 'logs', '--no-color', '--tail', String(tail), ...services);
export const composeDown = (stack: StackRef) => composeArgv(stack, 'down', '-v', '--remove-orphans');
export const composeStop = (stack: StackRef) => composeArgv(stack, 'stop');
export const composeStart = (stack: StackRef) => composeArgv(stack, 'start');

/**
 * The running containers of one compose service (full ids, as `compose ps --quiet` prints them), found
 * by the labels Compose puts on them: the engine answers alone, without starting Compose (about
 * 100 ms less on every deploy's lifecycle step, attach and forward).
 */
export const composeContainerId = (stack: StackRef, service: string) => [
  'docker', 'ps', '--quiet', '--no-trunc',
  '--filter', `label=com.docker.compose.project=${stack.project}`,
  '--filter', `label=com.docker.compose.service=${service}`,
  '--filter', 'label=com.docker.compose.oneoff=False',
];

export interface ExecOptions {
  workdir?: string;
  user?: string;
  env?: Record<string, string>;
}

const execFlags = (options: ExecOptions) => [
  ...(options.workdir ? ['--workdir', options.workdir] : []),
  ...(options.user ? ['--user', options.user] : []),
  ...Object.entries(options.env ?? {}).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
];

/**
 * A command in a running container, without a TTY: its output is read, not shown. Variables that
 * hold secrets come from `envFile` (mode 600 on the VM), never from argv.
 */
export function dockerExec(container: string, command: string[], options: ExecOptions & { envFile?: string } = {}): string[] {
  return ['docker', 'exec', ...execFlags(options), ...(options.envFile ? ['--env-file', options.envFile] : []), container, ...command];
}

/** A command in a service's running container; `tty` for a person at a terminal (kamal-dev ssh/exec). */
export function composeExec(stack: StackRef, service: string, command: string[], options: ExecOptions & { tty?: boolean } = {}): string[] {
  return composeArgv(stack, 'exec', ...(options.tty ? [] : ['-T']), ...execFlags(options), service, ...command);
}

/** A container's last log lines (both of its streams), by the name Compose gave it. */
export const containerLogs = (name: string, tail: number) => ['docker', 'logs', '--tail', String(tail), name];

const FAILED_CONTAINER = /container (\S+?) (?:is unhealthy|exited \(\d+\)|has exited)/gi;

/** The containers `up` names as the reason it failed ("dependency failed to start: container shop-db-1 is unhealthy"). */
export function failedContainers(stderr: string): string[] {
  return [...new Set([...stderr.matchAll(FAILED_CONTAINER)].map((m) => m[1]))];
}

export const containerStartedAt = (id: string) => ['docker', 'inspect', '--format', '{{.State.StartedAt}}', id];

/** Every container of a compose project (running or not), by id. */
export const projectContainers = (project: string) => ['docker', 'ps', '-aq', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`];
/** One line per container: its id, compose service, image reference and the image id it runs. */
export const containerImages = (ids: string[]) => ['docker', 'inspect', '--format', '{{.Id}} {{index .Config.Labels "com.docker.compose.service"}} {{.Config.Image}} {{.Image}}', ...ids];
export const dockerTag = (imageId: string, ref: string) => ['docker', 'tag', imageId, ref];

export const dockerSave = (images: string[]) => ['docker', 'save', ...images];
export const dockerLoad = () => ['docker', 'load'];

export interface ServiceState extends ContainerState {
  exitCode: number;
}

interface PsEntry {
  Name: string;
  Service: string;
  State: string;
  Health?: string;
  ExitCode?: number;
  Publishers?: { URL?: string; TargetPort: number; PublishedPort: number; Protocol: string }[] | null;
}

/** `ps --format json` prints one object per line (Compose >= 2.21) or one array (older); both are read. */
export function parseComposePs(stdout: string): ServiceState[] {
  const text = stdout.trim();
  if (!text) return [];
  const entries: PsEntry[] = text.startsWith('[') ? JSON.parse(text) : text.split('\n').map((l) => JSON.parse(l));
  return entries.map((e) => ({
    service: e.Service,
    name: e.Name,
    state: e.State,
    ...(e.Health ? { health: e.Health } : {}),
    exitCode: e.ExitCode ?? 0,
    ports: (e.Publishers ?? [])
      .filter((p) => p.PublishedPort > 0)
      .map((p) => `${p.URL || '0.0.0.0'}:${p.PublishedPort}->${p.TargetPort}/${p.Protocol}`),
  }));
}

export type ComposeFailure = 'RegistryAuth' | 'ImageNotFound' | 'ComposeInvalid';

/** The one place compose stderr is read: user errors (not worth retrying) vs. everything else (transient). */
export function classifyComposeError(stderr: string): ComposeFailure | undefined {
  if (/unauthorized|authentication required|no basic auth credentials|denied: /i.test(stderr)) return 'RegistryAuth';
  if (/manifest unknown|not found: manifest|manifest for .* not found|repository does not exist|pull access denied/i.test(stderr)) {
    return 'ImageNotFound';
  }
  if (/yaml: |validating .*compose\.yaml|services\.\S+ (Additional property|must be)|is invalid/i.test(stderr)) return 'ComposeInvalid';
  return undefined;
}
