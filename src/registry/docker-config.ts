import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CommandFailedError, run } from '../docker/runner';
import type { RegistryCredentials } from './manifest';

interface DockerConfig {
  auths?: Record<string, { auth?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/**
 * What the user's Docker config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) holds
 * for a registry host, looked up as `docker` itself does: the host's `credHelpers` entry, else the
 * `credsStore`, each asked with `docker-credential-NAME get`; else `docker login`'s stored
 * `auths[host].auth`. None when nothing is stored for the host (a public registry).
 */
export async function dockerConfigCredentials(host: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<RegistryCredentials | undefined> {
  const file = join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
  const config = readConfig(file);
  if (!config) return undefined;
  const helper = config.credHelpers?.[host] ?? config.credsStore;
  if (helper) return askHelper(helper, host, env, signal);
  const auth = (config.auths?.[host] ?? config.auths?.[`https://${host}`] ?? config.auths?.[`http://${host}`])?.auth;
  if (!auth) return undefined;
  const decoded = Buffer.from(auth, 'base64').toString();
  const colon = decoded.indexOf(':');
  return colon > 0 ? { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) } : undefined;
}

function readConfig(file: string): DockerConfig | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DockerConfig;
  } catch {
    return undefined;
  }
}

/** The credential helper protocol: the host on stdin, `{"Username", "Secret"}` on stdout; "not found" is no credentials. */
async function askHelper(helper: string, host: string, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  let stdout: string;
  try {
    stdout = (await run([program, 'get'], { input: host, env: stringsOf(env), signal })).stdout;
  } catch (error) {
    if (error instanceof CommandFailedError) {
      // Its stdout may hold a secret only on success; on failure it says why (never printed beyond its first line).
      const said = (error.stdout.trim() || error.stderr.trim()).split('\n')[0] ?? '';
      if (/credentials not found/i.test(said)) return undefined;
      throw new Error(`the Docker credential helper ${program} failed for ${host} (exit code ${error.exitCode})${said ? `: ${said}` : ''}`);
    }
    if ((error as Error).name === 'AbortError') throw error;
    throw new Error(`the Docker credential helper ${program} (named in the Docker config) cannot be run: ${(error as Error).message}`);
  }
  let answer: { Username?: string; Secret?: string };
  try {
    answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new Error(`the Docker credential helper ${program} answered something that is not JSON for ${host}`);
  }
  return answer.Username && answer.Secret ? { username: answer.Username, password: answer.Secret } : undefined;
}

function stringsOf(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}
