import { mkdirSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { LAB_LABEL, LabPart, markCreated, SHARED_DIR } from '../lab';
import { sh, succeeds } from '../exec';

export const REGISTRY_IMAGE = 'kamal-dev-lab/registry:latest';
const CONTAINER = 'kamal-dev-lab-registry';
const PORT = 5556;
const USERNAME = 'lab-user';
const PASSWORD = 'lab-password-$(not-a-command)';

const info = () => ({ address: `localhost:${PORT}`, username: USERNAME, password: PASSWORD, image: REGISTRY_IMAGE });

export async function ensureRegistryImage(): Promise<string> {
  if (!(await succeeds(['docker', 'image', 'inspect', REGISTRY_IMAGE]))) {
    await sh(['docker', 'build', '-q', '--label', `${LAB_LABEL}=registry`, '-t', REGISTRY_IMAGE, join(__dirname, '..', 'registry')], {
      timeoutMs: 900_000,
    });
  }
  return REGISTRY_IMAGE;
}

/** A real distribution registry with htpasswd (bcrypt) auth on localhost:5556. */
export const registryPart: LabPart = {
  name: 'registry',
  needs: ['baseImage'],
  async up() {
    await ensureRegistryImage();
    const authDir = join(SHARED_DIR, 'registry-auth');
    mkdirSync(authDir, { recursive: true });
    const htpasswd = await sh(['htpasswd', '-Bbn', USERNAME, PASSWORD]);
    writeFileSync(join(authDir, 'htpasswd'), htpasswd + '\n');
    const running = await sh(['docker', 'inspect', '-f', '{{.State.Running}}', CONTAINER]).catch(() => 'false');
    // Another run on this machine may be using it: reuse it, and leave its removal to whoever made it.
    if (running === 'true') return info();
    await sh(['docker', 'rm', '-f', CONTAINER]).catch(() => undefined);
    markCreated('registry');
    await sh([
      'docker', 'run', '-d', '--name', CONTAINER, '--label', `${LAB_LABEL}=registry`,
      '-p', `127.0.0.1:${PORT}:5000`,
      '-v', `${authDir}:/auth:ro`,
      '-e', 'REGISTRY_AUTH=htpasswd',
      '-e', 'REGISTRY_AUTH_HTPASSWD_REALM=kamal-dev-lab',
      '-e', 'REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd',
      REGISTRY_IMAGE,
    ]);
    await waitForHttp(`http://127.0.0.1:${PORT}/v2/`, 30_000);
    return info();
  },
  async down() {
    await sh(['docker', 'rm', '-f', '-v', CONTAINER]);
  },
};

export async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await statusOf(url)) < 500) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * One GET's status, 599 when nothing answers. Not `fetch`: against a port Docker has just published
 * (its proxy accepts before the registry listens), Node 20's fetch was seen to stay pending with
 * nothing holding the event loop, so the whole jest run ended at once with exit 0 and no test run.
 */
function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const request = get(url, { timeout: 2000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 599);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(599));
  });
}
