import { run } from '../docker/runner';
import { ImageError } from '../images/errors';
import { LABELS } from '../providers/types';

export const LOCAL_REGISTRY = {
  name: 'kamal-dev-registry',
  port: 5555,
  image: 'registry:2',
  label: 'kamal-dev.local-registry',
} as const;

export interface LocalRegistryOptions {
  /** Default: $KAMAL_DEV_LOCAL_REGISTRY_IMAGE, else registry:2 (any distribution registry that listens on :5000). */
  image?: string;
  port?: number;
  signal?: AbortSignal;
}

/** Published on 127.0.0.1 only: VMs reach it through an SSH remote forward, nobody else at all. */
export function localRegistryRunArgv(name: string, port: number, image: string): string[] {
  return [
    'docker', 'run', '--detach',
    '--name', name,
    '--label', `${LABELS.managed}=true`,
    '--label', `${LOCAL_REGISTRY.label}=${port}`,
    '--restart', 'unless-stopped',
    '--publish', `127.0.0.1:${port}:5000`,
    // Old workspace seeds are deleted by digest (src/images/seed-retention.ts).
    '--env', 'REGISTRY_STORAGE_DELETE_ENABLED=true',
    image,
  ];
}

/**
 * A registry that answers on 127.0.0.1:PORT, reused when one does. Its container is never replaced:
 * it holds every image pushed to it. A stopped one (after a reboot, or a crash) is started again, a
 * running one that is slow to answer (a loaded machine) is waited for, and only when there is none
 * a labelled container is started.
 */
export async function ensureLocalRegistry(options: LocalRegistryOptions = {}): Promise<{ address: string; started: boolean }> {
  const port = options.port ?? LOCAL_REGISTRY.port;
  const name = localRegistryName(port);
  const image = options.image ?? process.env.KAMAL_DEV_LOCAL_REGISTRY_IMAGE ?? LOCAL_REGISTRY.image;
  const address = `localhost:${port}`;
  if (await answers(port)) return { address, started: false };
  const state = await containerState(name, options.signal);
  try {
    if (state === undefined) await run(localRegistryRunArgv(name, port, image), { signal: options.signal });
    else if (state !== 'running') await run(['docker', 'start', name], { signal: options.signal });
  } catch (error) {
    throw new ImageError('RegistryUnavailable', 'registry', `could not start the local registry ${name} on 127.0.0.1:${port}`, {
      description:
        `${(error as { tail?: string }).tail ?? (error as Error).message}\n` +
        `Set KAMAL_DEV_LOCAL_REGISTRY_IMAGE to a registry image this machine has (now: ${image}), or free port ${port}.`,
      cause: error,
    });
  }
  const deadline = Date.now() + 30_000;
  while (!(await answers(port))) {
    if (Date.now() > deadline) {
      throw new ImageError('RegistryUnavailable', 'registry', `the local registry ${name} did not answer on 127.0.0.1:${port} within 30s`, {
        description: `See \`docker logs ${name}\`.`,
        retry: 'transient',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { address, started: state !== 'running' };
}

/** The container's state (`running`, `exited`, ...), undefined when there is none of that name. */
async function containerState(name: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    return (await run(['docker', 'container', 'inspect', '--format', '{{.State.Status}}', name], { signal })).stdout.trim();
  } catch {
    return undefined;
  }
}

/** One container per port, so registries on other ports (another project's, a test's) are never replaced. */
export function localRegistryName(port: number): string {
  return port === LOCAL_REGISTRY.port ? LOCAL_REGISTRY.name : `${LOCAL_REGISTRY.name}-${port}`;
}

export function removeLocalRegistryArgv(port: number = LOCAL_REGISTRY.port): string[] {
  return ['docker', 'rm', '--force', '--volumes', localRegistryName(port)];
}

async function answers(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200 || response.status === 401;
  } catch {
    return false;
  }
}
