import { posix } from 'node:path';
import type { ContainerState } from '../activities/types';

/** argv of `docker compose` for one stack folder on a VM; the folder holds compose.yaml. */
export function composeArgv(project: string, stackDir: string, ...args: string[]): string[] {
  return ['docker', 'compose', '-p', project, '--project-directory', stackDir, '-f', posix.join(stackDir, 'compose.yaml'), ...args];
}

export const composePull = (project: string, dir: string, services: string[] = []) => composeArgv(project, dir, 'pull', ...services);
export const composeUp = (project: string, dir: string) => composeArgv(project, dir, 'up', '-d', '--remove-orphans');
export const composePs = (project: string, dir: string) => composeArgv(project, dir, 'ps', '--all', '--format', 'json');
export const composeLogs = (project: string, dir: string, tail: number, services: string[] = []) =>
  composeArgv(project, dir, 'logs', '--no-color', '--tail', String(tail), ...services);
export const composeDown = (project: string, dir: string) => composeArgv(project, dir, 'down', '-v', '--remove-orphans');
export const composeStop = (project: string, dir: string) => composeArgv(project, dir, 'stop');
export const composeStart = (project: string, dir: string) => composeArgv(project, dir, 'start');

/** The password goes to stdin, never argv (argv is visible in `ps` and shell history). */
export function dockerLogin(server: string, username: string): string[] {
  return ['docker', 'login', server, '--username', username, '--password-stdin'];
}

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
