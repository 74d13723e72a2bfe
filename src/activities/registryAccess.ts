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

/**
 * Opens the forwards and logs in (password on stdin); returns the function that closes the
 * forwards again. Forwards stay open only while the VM pulls.
 */
export async function openRegistryAccess(
  session: SshSession,
  plan: DeployPlan,
  credentials?: { username: string; password: string },
): Promise<() => Promise<void>> {
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    for (const port of loopbackRegistryPorts(plan)) closers.push(await session.forwardRemotePort(port));
    if (credentials) {
      await session.run(loginArgv(plan.registry.server, credentials.username), {
        root: true,
        input: credentials.password,
        secrets: [credentials.password, credentials.username],
      });
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  return closeAll;
}
