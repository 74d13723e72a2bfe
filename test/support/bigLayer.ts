import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../lab/exec';
import { LAB_LABEL } from '../lab/lab';
import { ensureLocalRegistry, removeLocalRegistryArgv } from '../../src/registry/local';
import type { SshSession } from '../../src/ssh/session';

/**
 * A registry of its own on 127.0.0.1:port holding one image whose top layer is `mb` MB of random
 * data (incompressible, so the tunnel carries every byte). `remove` takes the registry with its
 * volume, so the blob does not pile up in the lab's registry run after run.
 */
export async function bigLayerRegistry(port: number, registryImage: string, mb: number, label: string) {
  await ensureLocalRegistry({ port, image: registryImage });
  const image = `localhost:${port}/kamal-dev-test/big-layer:${label}`;
  const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-big-layer-'));
  try {
    writeFileSync(join(dir, 'Dockerfile'), `FROM debian:bookworm-slim\nRUN head -c ${mb}M /dev/urandom > /payload\n`);
    await sh(['docker', 'build', '-q', '--label', `${LAB_LABEL}=${label}`, '-t', image, dir], { timeoutMs: 600_000 });
    await sh(['docker', 'push', image], { timeoutMs: 600_000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sh(['docker', 'rmi', '-f', image]).catch(() => undefined);
  }
  return {
    image,
    bytes: mb * 1024 * 1024,
    remove: () => sh(removeLocalRegistryArgv(port)).then(() => undefined),
  };
}

/** `docker pull` of `image` on the VM from scratch (removed first), in seconds. */
export async function timedPull(session: SshSession, image: string): Promise<number> {
  await session.exec(['docker', 'rmi', '-f', image], { root: true });
  const t0 = performance.now();
  await session.run(['docker', 'pull', '-q', image], { root: true });
  return (performance.now() - t0) / 1000;
}
