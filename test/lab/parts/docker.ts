import { join } from 'node:path';
import { LabPart } from '../lab';
import { sh } from '../exec';

export const dockerPart: LabPart = {
  name: 'docker',
  async up() {
    const engine = await sh(['docker', 'version', '--format', '{{.Server.Version}}']).catch(() => {
      throw new Error('the Docker engine is not reachable (run ./scripts/setup, or start dockerd)');
    });
    const compose = await sh(['docker', 'compose', 'version', '--short']).catch(() => {
      throw new Error('Docker Compose v2 is missing (run ./scripts/setup)');
    });
    if (!/^v?2\./.test(compose)) throw new Error(`Docker Compose v2 is required, found ${compose}`);
    const buildx = await sh(['docker', 'buildx', 'version']).catch(() => {
      throw new Error('docker buildx is missing (run ./scripts/setup)');
    });
    return { engine, compose, buildx };
  },
};

/** debian:bookworm-slim (and debian:bookworm) from debootstrap, since no registry can be reached. */
export const baseImagePart: LabPart = {
  name: 'baseImage',
  needs: ['docker'],
  async up() {
    await sh(['bash', join(__dirname, '..', 'base-image.sh'), 'debian:bookworm-slim', 'debian:bookworm'], { timeoutMs: 900_000 });
    return { image: 'debian:bookworm-slim' };
  },
};
