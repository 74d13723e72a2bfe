import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { loginArgv } from '../docker/registry';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);

/** The registry part of an image reference (host[:port]), when it names one. */
export function registryOf(image: string): string | undefined {
  const first = image.split('/')[0];
  if (!image.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) return undefined;
  return first;
}

/** Ports of registries on this machine's loopback that the VM must reach through a remote forward. */
export function loopbackRegistryPorts(plan: DeployPlan): number[] {
  const services = (plan.stack.compose.services ?? {}) as Record<string, { image?: string }>;
  const servers = [plan.registry.server, ...Object.values(services).map((s) => (s.image ? registryOf(s.image) : undefined))];
  const ports = servers
    .filter((s): s is string => !!s && LOOPBACK_HOSTS.has(s.split(':')[0]) && s.includes(':'))
    .map((s) => Number(s.split(':')[1]));
  return [...new Set(ports)];
}

export interface RegistryAccess {
  /** The throwaway Docker config the login wrote to (root-only, on the VM): pull with DOCKER_CONFIG set to it. */
  dockerConfig?: string;
  /** Closes the forwards and removes the Docker config, so no credential stays on the VM. */
  close(): Promise<void>;
}

/**
 * Opens the forwards and logs in (password on stdin) into a Docker config of its own, never root's
 * ~/.docker. Forwards and login last only while the VM pulls.
 */
export async function openRegistryAccess(
  session: SshSession,
  plan: DeployPlan,
  credentials?: { username: string; password: string },
): Promise<RegistryAccess> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    for (const port of loopbackRegistryPorts(plan)) closers.push(await session.forwardRemotePort(port));
    if (!credentials) return { close };
    const dockerConfig = (await session.run(['mktemp', '-d', '/tmp/kamal-dev-docker-config.XXXXXX'], { root: true })).stdout.trim();
    closers.push(async () => void (await session.run(['rm', '-rf', '--', dockerConfig], { root: true })));
    await session.run(withDockerConfig(dockerConfig, loginArgv(plan.registry.server, credentials.username)), {
      root: true,
      input: credentials.password,
      secrets: [credentials.password],
    });
    return { dockerConfig, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** argv that runs with DOCKER_CONFIG pointed at `dir` (when there is one). */
export function withDockerConfig(dir: string | undefined, argv: string[]): string[] {
  return dir ? ['env', `DOCKER_CONFIG=${dir}`, ...argv] : argv;
}

/** Runs `work` with the registry reachable and logged in (its Docker config, if any); closes both after. */
export async function withRegistryAccess<T>(
  session: SshSession,
  plan: DeployPlan,
  credentials: { username: string; password: string } | undefined,
  work: (dockerConfig?: string) => Promise<T>,
): Promise<T> {
  const access = await openRegistryAccess(session, plan, credentials);
  try {
    return await work(access.dockerConfig);
  } finally {
    await access.close();
  }
}
