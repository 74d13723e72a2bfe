import { headManifest, type RegistryCredentials } from '../registry/manifest';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { loopbackRegistryPorts, registryOf } from './registryAccess';

/** A registry that does not answer this fast is asked no further: the pull asks it again anyway. */
const REGISTRY_TIMEOUT_MS = 3000;

// Each argument's RepoDigests as one JSON line, `null` for an image the VM does not have.
const REPO_DIGESTS = `for image; do docker image inspect --format '{{json .RepoDigests}}' "$image" 2>/dev/null || echo null; done`;

/**
 * Of these services, the ones whose image the VM must still pull: all but those it holds at the
 * very digest the registry serves for the tag now (a redeploy of unchanged images pulls nothing, so
 * it needs no tunnel or login). A service with a pull_policy, an image the registry does not show
 * in time, one on a registry other than the deployment's and the loopback ones (Docker Hub's
 * answer would cost a round trip to the internet), and any error keep the pull: the pull, not this
 * check, decides what is there.
 */
export async function servicesToPull(session: SshSession, plan: DeployPlan, services: string[], credentials?: RegistryCredentials): Promise<string[]> {
  const definitions = (plan.stack.compose.services ?? {}) as Record<string, { image?: string; pull_policy?: string }>;
  const loopback = new Set(loopbackRegistryPorts(plan));
  const checkable = (image: string) => {
    const registry = registryOf(image);
    return !!registry && (registry === plan.registry.server || loopback.has(Number(registry.split(':')[1])));
  };
  const candidates = services.filter((s) => definitions[s]?.image && definitions[s].pull_policy === undefined && checkable(definitions[s].image!));
  if (candidates.length === 0) return services;
  try {
    const images = candidates.map((s) => definitions[s].image!);
    const onVm = (await session.run(['sh', '-c', REPO_DIGESTS, 'sh', ...images], { root: true })).stdout.trim().split('\n');
    const current = await registryDigests(plan, images, credentials);
    const upToDate = new Set(
      candidates.filter((_s, i) => {
        const held = JSON.parse(onVm[i] ?? 'null') as string[] | null;
        return !!current[i] && !!held?.includes(`${repositoryOf(images[i])}@${current[i]}`);
      }),
    );
    return services.filter((s) => !upToDate.has(s));
  } catch {
    return services;
  }
}

/**
 * Of the built services, those whose image the registry already serves at its tag: a redeploy's, or
 * one whose push ended before the VM got this far. pullImages takes them with the rest, in one pull;
 * composeUp, after the push, pulls again whatever is not at the pushed digest.
 */
export async function builtInRegistry(plan: DeployPlan, credentials?: RegistryCredentials): Promise<string[]> {
  const found = await registryDigests(plan, plan.builds.map((b) => b.image), credentials);
  return plan.builds.filter((_b, i) => !!found[i]).map((b) => b.service);
}

function registryDigests(plan: DeployPlan, images: string[], credentials?: RegistryCredentials): Promise<(string | undefined)[]> {
  return Promise.all(images.map((image) => registryDigest(image, registryOf(image) === plan.registry.server ? credentials : undefined)));
}

/** The digest the registry serves for an image's tag, or undefined when it does not say (in time). */
async function registryDigest(image: string, credentials?: RegistryCredentials): Promise<string | undefined> {
  if (image.includes('@')) return image.slice(image.indexOf('@') + 1);
  try {
    const response = await headManifest(image, credentials, AbortSignal.timeout(REGISTRY_TIMEOUT_MS));
    return response.status === 200 ? (response.headers.get('docker-content-digest') ?? undefined) : undefined;
  } catch {
    return undefined;
  }
}

/** `host/ns/app:tag` -> `host/ns/app`, as Docker writes it in RepoDigests (`host/ns/app@sha256:...`). */
export function repositoryOf(image: string): string {
  const name = image.includes('@') ? image.slice(0, image.indexOf('@')) : image;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}
