import { configError } from '../errors';

type Service = Record<string, unknown>;

/** config/dev.yml's compose.profiles, and the file to name when one of them matches no service. */
export interface ActiveProfiles {
  names: string[];
  file: string;
}

/**
 * What Compose would start: the services named (runServices, else every service without
 * `profiles:`), the primary one, the services of the active profiles, and everything they depend
 * on. A service with `profiles:` is started only when named, in an active profile, or depended on.
 */
export function selectServices(services: Record<string, Service>, primary: string, runServices?: string[], profiles?: ActiveProfiles): string[] {
  const profilesOf = (name: string) => (services[name].profiles as string[] | undefined) ?? [];
  const active = new Set(profiles?.names ?? []);
  const known = new Set(Object.keys(services).flatMap(profilesOf));
  const unknown = [...active].filter((p) => !known.has(p));
  if (unknown.length > 0) {
    throw configError(`no compose service has the profile ${unknown.map((p) => `"${p}"`).join(', ')}`, {
      file: profiles?.file,
      key: 'compose.profiles',
      description: known.size ? `The compose files define the profiles: ${[...known].join(', ')}.` : 'No service of the compose files has `profiles:`.',
    });
  }
  const named = runServices ?? Object.keys(services).filter((s) => profilesOf(s).length === 0);
  const inActiveProfile = Object.keys(services).filter((s) => profilesOf(s).some((p) => active.has(p)));
  const wanted = new Set<string>();
  const visit = (name: string) => {
    if (wanted.has(name) || !services[name]) return;
    wanted.add(name);
    Object.keys((services[name].depends_on as object) ?? {}).forEach(visit);
  };
  [primary, ...named, ...inActiveProfile].forEach(visit);
  return Object.keys(services).filter((s) => wanted.has(s));
}
