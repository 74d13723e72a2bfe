import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../lab/exec';
import { LAB_LABEL } from '../lab/lab';
import type { DeployPlan, StackPlan } from '../../src/spec/plan';
import Docker from 'dockerode';
import { LABELS } from '../../src/providers/types';
import { projectIdentity } from '../../src/state/identity';

/** A project folder of its own for a test file, with an SSH key pair in it. */
export async function testProject(name: string): Promise<{ dir: string; keyPath: string }> {
  const dir = mkdtempSync(join(tmpdir(), `kamal-dev-vms-${name}-`));
  mkdirSync(join(dir, 'keys'));
  const keyPath = join(dir, 'keys', 'id_ed25519');
  await sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', keyPath]);
  return { dir, keyPath };
}

export function testPlan(options: {
  projectDir: string;
  keyPath: string;
  service: string;
  user?: string;
  provider?: DeployPlan['provider'];
  stack?: Partial<StackPlan>;
  registry?: DeployPlan['registry'];
  builds?: DeployPlan['builds'];
}): DeployPlan {
  return {
    projectDir: options.projectDir,
    identity: projectIdentity(options.projectDir),
    secretsFile: join(options.projectDir, '.kamal', 'secrets'),
    kind: 'compose',
    service: options.service,
    registry: options.registry ?? { server: 'localhost:5555', namespace: 'vms', local: true },
    tag: 'test',
    builds: options.builds ?? [],
    stack: {
      projectName: options.service,
      primaryService: 'app',
      compose: { services: {} },
      files: [],
      secrets: [],
      dropped: [],
      ...options.stack,
    },
    vms: [],
    provider: options.provider ?? { type: 'docker' },
    ssh: { user: options.user ?? 'root', port: 22, keyPath: options.keyPath },
    onFailure: 'destroy',
  };
}

/** Builds a tiny image from the lab's debootstrap base (no registry can be reached here). */
export async function buildTestImage(tag: string, dockerfile: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-vms-image-'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  await sh(['docker', 'build', '-q', '--label', `${LAB_LABEL}=vms`, '-t', tag, dir], { timeoutMs: 600_000 });
}

/** Every VM container of a test deployment, whatever project made it, gone with its volumes. */
export async function destroyDeployment(service: string): Promise<void> {
  const docker = new Docker();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.deployment}=${service}`] } })) {
    await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  }
}
