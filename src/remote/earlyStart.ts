import { posix } from 'node:path';
import { stringify } from 'yaml';
import { composeArgv } from '../docker/compose';
import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { withDockerConfig } from './registryAccess';
import { stackRef } from './stackDir';
import { EARLY_FILE, stagedRef } from './stackRelease';

type Service = Record<string, unknown>;

/**
 * Of these pulled, unbuilt services, those that can run before the rest of the stack is there: each
 * needs nothing from the stack folder (no env file, bind mount, secret or config file: those come
 * with the upload or the seed, and only the swap puts them where the compose file points), is not
 * behind a profile, and depends only on services that can start early too. Postgres with a named
 * volume is the usual one: its first start (initdb, then the healthcheck's interval) is then over by
 * the time the app's image is there.
 */
export function startableEarly(compose: Record<string, unknown>, pulled: string[]): string[] {
  const services = (compose.services ?? {}) as Record<string, Service>;
  let startable = new Set(pulled.filter((name) => services[name] && standsAlone(services[name])));
  // Drop every service with a dependency outside the set until none is left to drop.
  for (let changed = true; changed; ) {
    const next = new Set([...startable].filter((name) => dependencies(services[name]).every((d) => startable.has(d))));
    changed = next.size !== startable.size;
    startable = next;
  }
  return pulled.filter((name) => startable.has(name));
}

function standsAlone(service: Service): boolean {
  if (service.build || service.env_file || service.profiles || service.secrets || service.configs || service.extends) return false;
  // Ties to another container that depends_on may not list: left to the whole stack's `up`.
  if (service.volumes_from || service.links || /^(service|container):/.test(String(service.network_mode ?? ''))) return false;
  return ((service.volumes ?? []) as unknown[]).every((volume) =>
    typeof volume === 'string' ? !/^[./~]/.test(volume) : (volume as { type?: string }).type !== 'bind',
  );
}

function dependencies(service: Service): string[] {
  const dependsOn = service.depends_on;
  if (!dependsOn) return [];
  return Array.isArray(dependsOn) ? (dependsOn as string[]) : Object.keys(dependsOn as object);
}

/** The compose document of just these services, with the volumes and networks they may use. */
export function earlyDocument(compose: Record<string, unknown>, services: string[]): Record<string, unknown> {
  const all = (compose.services ?? {}) as Record<string, Service>;
  return {
    ...(compose.name ? { name: compose.name } : {}),
    services: Object.fromEntries(services.map((name) => [name, all[name]])),
    ...(compose.volumes ? { volumes: compose.volumes } : {}),
    ...(compose.networks ? { networks: compose.networks } : {}),
  };
}

/**
 * On a VM that has never run this stack, starts the services that can start early, from the staged
 * release, before the rest of the images are there; composeUp's `up` then finds them running with
 * the same configuration and leaves them be. A VM with a live stack is never touched before the
 * swap (a redeploy's running stack stays as it is until every image is pulled). Returns the
 * services it started.
 */
export async function startEarly(session: SshSession, plan: DeployPlan, pulled: string[], options: { onLine: () => void; dockerConfig?: string }): Promise<string[]> {
  const services = startableEarly(plan.stack.compose, pulled);
  if (services.length === 0) return [];
  const live = stackRef(plan);
  if ((await session.exec(['test', '-e', posix.join(live.dir, 'compose.yaml')])).exitCode === 0) return [];
  const early = stagedRef(plan, EARLY_FILE);
  await session.upload(early.file, stringify(earlyDocument(plan.stack.compose, services)));
  await session.run(withDockerConfig(options.dockerConfig, composeArgv(early, 'up', '-d', ...services)), { root: true, onLine: options.onLine });
  return services;
}

/**
 * The undo of startEarly, for a deploy that fails before its swap: on a VM that still has no live
 * stack, the services it started go (`down`, which keeps their volumes).
 */
export async function stopEarlyStarted(session: SshSession, plan: DeployPlan): Promise<void> {
  const early = stagedRef(plan, EARLY_FILE);
  const script = `[ ! -e "$1/compose.yaml" ] && [ -f "$2" ] || exit 0; shift 2; exec "$@"`;
  await session.run(['sh', '-c', script, 'sh', early.dir, early.file, ...composeArgv(early, 'down')], { root: true });
}
