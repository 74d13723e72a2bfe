/**
 * The primary container's entrypoint, as the reference CLI sets it (devcontainers/cli
 * src/spec-node/dockerCompose.ts, generateFeaturesComposeOverrideContent): features' entrypoints
 * run first, then the service's own entrypoint and command.
 */

type Service = Record<string, unknown>;

/**
 * Set when the primary service's own entrypoint is its image's ENTRYPOINT (compose names none and
 * overrideCommand is off), which a features wrapper must run: known only once the image is built,
 * so it is read from the pulled image on each VM. `withCmd`: compose names no command either, so
 * the image's CMD becomes the command (an entrypoint set in compose drops the image's CMD).
 */
export interface ImageEntrypoint {
  withCmd: boolean;
}

/** What the ENTRYPOINT and CMD of an image's config (`docker image inspect`) hold. */
export interface ImageStartConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
}

// What devcontainer tools run when overrideCommand is on: stays up, and stops at once on SIGTERM.
const KEEP_ALIVE = ['/bin/sh', '-c', "trap 'exit 0' TERM; while sleep 1000 & wait $$!; do :; done"];

const escaped = (args: string[]) => args.map((a) => a.split('$').join('$$'));

/**
 * The reference CLI's entrypoint when features bring their own: a shell that runs each feature's
 * entrypoint in install order, then execs the service's own entrypoint and command (its arguments),
 * or stays up when there are none. `$` is doubled for compose.
 */
export function withFeatureEntrypoints(entrypoints: string[], own: string[]): string[] {
  const script = ['echo Container started', 'trap "exit 0" 15', ...escaped(entrypoints), 'exec "$$@"', 'while sleep 1 & wait $$!; do :; done'].join('\n');
  return ['/bin/sh', '-c', script, '-', ...own];
}

/**
 * The primary service (a copy) with its entrypoint and command as devcontainer tools start it.
 * Values in the normalised model are escaped for compose already. With features' entrypoints and
 * no entrypoint in compose, the wrapper gets the image's own later (`image`).
 */
export function primaryEntrypoint(service: Service, options: { featureEntrypoints: string[]; overrideCommand: boolean }): { service: Service; image?: ImageEntrypoint } {
  const out = { ...service };
  const { featureEntrypoints, overrideCommand } = options;
  if (overrideCommand) {
    delete out.command;
    out.entrypoint = featureEntrypoints.length ? withFeatureEntrypoints(featureEntrypoints, []) : KEEP_ALIVE;
    return { service: out };
  }
  if (!featureEntrypoints.length) return { service: out };
  // `entrypoint: []` counts as one: it drops the image's (the reference CLI takes it so too).
  const own = out.entrypoint === undefined ? undefined : [out.entrypoint].flat() as string[];
  out.entrypoint = withFeatureEntrypoints(featureEntrypoints, own ?? []);
  return own ? { service: out } : { service: out, image: { withCmd: out.command === undefined } };
}

/** The compose document with the image's ENTRYPOINT after the primary service's features wrapper and, with `withCmd`, its CMD as the command. */
export function withImageEntrypoint(compose: Record<string, unknown>, primaryService: string, need: ImageEntrypoint, image: ImageStartConfig): Record<string, unknown> {
  const services = compose.services as Record<string, Service>;
  const primary = { ...services[primaryService] };
  primary.entrypoint = [...(primary.entrypoint as string[]), ...escaped(image.Entrypoint ?? [])];
  if (need.withCmd && image.Cmd?.length) primary.command = escaped(image.Cmd);
  return { ...compose, services: { ...services, [primaryService]: primary } };
}
