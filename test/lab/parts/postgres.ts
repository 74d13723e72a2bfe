import { join } from 'node:path';
import { LAB_LABEL, LabPart, readLabState } from '../lab';
import { sh, succeeds } from '../exec';

export const POSTGRES_IMAGE = 'kamal-dev-lab/postgres:15';

/**
 * Postgres built from Debian's package (the official image cannot be pulled here), pushed to the lab
 * registry and to the local registry so VMs pull it like any public image.
 */
export const postgresPart: LabPart = {
  name: 'postgres',
  needs: ['registry', 'localRegistry'],
  async up() {
    if (!(await succeeds(['docker', 'image', 'inspect', POSTGRES_IMAGE]))) {
      await sh(['docker', 'build', '-q', '--label', `${LAB_LABEL}=postgres`, '-t', POSTGRES_IMAGE, join(__dirname, '..', 'postgres')], {
        timeoutMs: 900_000,
      });
    }
    const registry = readLabState().registry;
    if (!registry?.ok) throw new Error('the lab registry is not up');
    const { address, username, password } = registry.info as { address: string; username: string; password: string };
    const pushed = `${address}/lab/postgres:15`;
    await sh(['docker', 'login', address, '--username', username, '--password-stdin'], { input: password });
    await publish(pushed);
    const local = readLabState().localRegistry;
    if (!local?.ok) throw new Error('the local registry is not up');
    const pushedLocal = `${(local.info as { address: string }).address}/lab/postgres:15`;
    await publish(pushedLocal);
    return { local: POSTGRES_IMAGE, pushed, pushedLocal };
  },
};

/**
 * Pushes the image under `target` and drops the local tag. Two test runs on one machine (two
 * worktrees) may do this at once, and one's `rmi` can take the tag from under the other's push: so a
 * failed push tags again and retries, and a tag that is already gone is fine.
 */
async function publish(target: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await sh(['docker', 'tag', POSTGRES_IMAGE, target]);
      await sh(['docker', 'push', '-q', target]);
      break;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
  await sh(['docker', 'rmi', target]).catch(() => undefined);
}
