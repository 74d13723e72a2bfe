import type { DeployPlan } from '../spec/plan';
import type { SshSession } from '../ssh/session';
import { SECRETS_ENV_FILE, stackRef } from './stackDir';
import type { PreviousStack } from './stackRelease';

/**
 * In the stack folder: the sum of the release files (below) that the last `up` which ran to the end
 * started. Removed as each `up` begins, so an `up` that failed or was cut off leaves none. Every `up`
 * of a live stack (composeUp's, a rollback's) goes through upAndMark; the early start runs only on a
 * VM where the stack never ran.
 */
export const UP_MARK = '.up-sum';

/** Everything Compose reads from the stack folder when it creates containers. */
const RELEASE_SUM = `find compose.yaml ${SECRETS_ENV_FILE} env files -type f 2>/dev/null | LC_ALL=C sort | xargs -r sha256sum | sha256sum | cut -d' ' -f1`;

// $1 stack folder, then the `up` argv.
const UP_AND_MARK = `set -eu
cd "$1"
shift
rm -f ${UP_MARK}
"$@"
${RELEASE_SUM} > ${UP_MARK}
`;

/** Runs an `up` argv of the stack in `dir`, then marks the release it started (see standsAsReleased). */
export function upAndMark(dir: string, up: string[]): string[] {
  return ['sh', '-c', UP_AND_MARK, 'sh', dir, ...up];
}

// $1 stack folder, $2 compose project, then each service's image. Prints the release's sum, the mark,
// the project's running containers and a line per image (its id, or nothing when it is absent).
const STANDING = `set -u
cd "$1" || exit 0
project=$2
shift 2
echo "sum $(${RELEASE_SUM})"
echo "mark $(cat ${UP_MARK} 2>/dev/null)"
echo "running $(docker ps -q --no-trunc --filter "label=com.docker.compose.project=$project" | tr '\\n' ' ')"
for image; do echo "image $(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null)"; done
`;

type Service = { image?: string; scale?: unknown; deploy?: { replicas?: unknown }; profiles?: unknown };

/**
 * The live release is what its running containers were started from: the last `up` of these very
 * files ran to the end, and each service has one container (of `containers`, the project's as the
 * swap found them), running the image its name points at now, with no other container in the
 * project. Then `up -d` would change nothing, yet Compose would still wait its half-second health
 * poll for every `service_healthy` dependency; composeUp skips it. Anything it cannot tell
 * (replicas, profiles, a missing image) counts as changed.
 */
export async function standsAsReleased(session: SshSession, plan: DeployPlan, containers: PreviousStack['containers']): Promise<boolean> {
  const services = Object.entries((plan.stack.compose.services ?? {}) as Record<string, Service>);
  if (containers.length !== services.length) return false;
  if (services.some(([, s]) => !s.image || s.scale !== undefined || s.deploy?.replicas !== undefined || s.profiles !== undefined)) return false;
  const { dir, project } = stackRef(plan);
  const result = await session.exec(['sh', '-c', STANDING, 'sh', dir, project, ...services.map(([, s]) => s.image!)], { root: true });
  if (result.exitCode !== 0) return false;
  const lines = result.stdout.split('\n').map((line) => line.split(' ').filter(Boolean));
  const of = (key: string) => lines.filter((l) => l[0] === key).map((l) => l.slice(1));
  const sum = of('sum')[0]?.[0];
  if (!sum || sum !== of('mark')[0]?.[0]) return false;
  const running = new Set(of('running')[0]);
  const images = of('image').map(([id]) => id);
  return services.every(([name], i) => {
    const mine = containers.filter((c) => c.service === name);
    return !!images[i] && mine.length === 1 && running.has(mine[0].id) && mine[0].imageId === images[i];
  });
}
