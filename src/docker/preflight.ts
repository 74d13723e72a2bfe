import { existsSync, statSync } from 'node:fs';
import { isKamalDevError } from '../errors';
import { ImageError } from '../images/errors';
import type { ImageBuild } from '../spec/plan';
import { CommandFailedError, run } from './runner';

export interface DockerVersions {
  engine: string;
  buildx: string;
  compose?: string;
}

export const engineVersionArgv = (): string[] => ['docker', 'version', '--format', '{{.Server.Version}}'];
export const buildxVersionArgv = (): string[] => ['docker', 'buildx', 'version'];
export const composeVersionArgv = (): string[] => ['docker', 'compose', 'version', '--short'];

/** Checks the tools a build needs, before any work starts, and says how to fix what is missing. */
export async function checkDocker(options: { compose?: boolean; signal?: AbortSignal } = {}): Promise<DockerVersions> {
  const engine = await probe(engineVersionArgv(), options.signal, (error) => {
    if (isKamalDevError(error)) {
      return missing('docker is not installed (not found on PATH)', 'Install Docker Engine (Debian: apt-get install docker.io) or Docker Desktop.');
    }
    const tail = error instanceof CommandFailedError ? error.tail : String(error);
    return missing(
      'the Docker engine is not reachable',
      `${tail}\nStart it: \`sudo systemctl start docker\` (Linux), open Docker Desktop (macOS, Windows), or run \`dockerd\`. ` +
        'If it is running, check DOCKER_HOST and that you may use its socket (the docker group).',
    );
  });
  const buildx = await probe(buildxVersionArgv(), options.signal, () =>
    missing('docker buildx is missing', 'Install the buildx plugin (Debian: apt-get install docker-buildx; Docker Desktop includes it).'),
  );
  if (!options.compose) return { engine, buildx };
  const composeMissing = () =>
    missing('Docker Compose v2 (`docker compose`) is missing', 'Install the Compose v2 plugin (Debian: apt-get install docker-compose from trixie or Docker\'s packages; Docker Desktop includes it). The old `docker-compose` v1 does not work.');
  const compose = await probe(composeVersionArgv(), options.signal, composeMissing);
  if (!isComposeV2OrLater(compose)) throw composeMissing();
  return { engine, buildx, compose };
}

export function isComposeV2OrLater(version: string): boolean {
  const major = /^v?(\d+)\./.exec(version.trim());
  return major !== null && Number(major[1]) >= 2;
}

/** The Dockerfile and context of every build exist: a clear error now beats BuildKit's later. */
export function checkBuildInputs(builds: ImageBuild[]): void {
  for (const build of builds) {
    if (!existsSync(build.context) || !statSync(build.context).isDirectory()) {
      throw new ImageError('DockerfileMissing', 'config', `the build context of service ${build.service} does not exist: ${build.context}`, {
        file: build.context,
        description: 'Fix build.context (or the compose service\'s build.context); it is relative to the file that names it.',
      });
    }
    // A features-only build (an image devcontainer with features) has no Dockerfile of its own.
    if (!build.features?.baseImage && (!existsSync(build.dockerfile) || !statSync(build.dockerfile).isFile())) {
      throw new ImageError('DockerfileMissing', 'config', `the Dockerfile of service ${build.service} does not exist: ${build.dockerfile}`, {
        file: build.dockerfile,
        description: 'Fix build.dockerfile (or the compose service\'s build.dockerfile); it is relative to the build context.',
      });
    }
  }
}

async function probe(argv: string[], signal: AbortSignal | undefined, onFailure: (error: unknown) => Error): Promise<string> {
  try {
    return (await run(argv, { signal })).stdout.trim();
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw onFailure(error);
  }
}

function missing(message: string, description: string): ImageError {
  return new ImageError('PrerequisiteMissing', 'prerequisite', message, { description });
}
