import { chmodSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installScript, START_ENGINE_SCRIPT } from '../../src/docker/bootstrap';
import { sh } from '../../test/lab/exec';

export const ROOT = join(__dirname, '..', '..');
export const SECRETS = { RAILS_MASTER_KEY: 'bench-master-key', POSTGRES_PASSWORD: 'bench-postgres-password' };

/**
 * What the lab provides in place of images no registry here serves (see test/lab), and a task queue
 * of the benchmark's own: on the shared one, other deploys on this Temporal server would run their
 * activities in the measured worker.
 */
export const DEPLOY_ENV = {
  KAMAL_DEV_TASK_QUEUE: `kamal-dev-bench-${process.pid}`,
  BASE_IMAGE: 'debian:bookworm-slim',
  POSTGRES_IMAGE: 'localhost:5555/lab/postgres:15',
  KAMAL_DEV_LOCAL_REGISTRY_IMAGE: 'kamal-dev-lab/registry:latest',
  TEMPORAL_ADDRESS: '127.0.0.1:17233',
};

/**
 * The app's own layer (its gems and packages, say): new in every deploy measured, since the step
 * names its project, so each build runs this one step and each push uploads it, while every layer
 * before it is in the build cache and the registry (the warm-up pushes them). Without it kamal-dev's
 * push would mount what the pipeline just pushed and do none of the pipeline's work. Random, so it
 * is the same size compressed.
 */
const APP_LAYER_MB = 64;
const appLayerStep = (service: string) => `\n# bench: the layer of this run only\nRUN echo ${service} >/opt/bench-run && head -c ${APP_LAYER_MB}M /dev/urandom >/opt/bench-app-layer\n`;

/**
 * A copy of examples/rails whose `service:` (and so its VM names) belongs to one benchmark run, as a
 * git checkout (so the image tag is the commit, as in a user's project, and unchanged source keeps it).
 * Its image ends in the app layer of this service.
 */
export async function railsProject(service: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), `${service}-`));
  cpSync(join(ROOT, 'examples', 'rails'), dir, { recursive: true, filter: (source) => !source.includes('/.kamal/') });
  const config = join(dir, 'config', 'dev.yml');
  writeFileSync(config, readFileSync(config, 'utf8').replace(/^service: .*$/m, `service: ${service}`));
  const dockerfile = join(dir, '.devcontainer', 'Dockerfile');
  writeFileSync(dockerfile, readFileSync(dockerfile, 'utf8') + appLayerStep(service));
  const secrets = Object.entries(SECRETS).map(([name, value]) => `${name}=${value}\n`).join('');
  cpSync(join(ROOT, 'examples', 'rails', '.kamal'), join(dir, '.kamal'), { recursive: true });
  writeFileSync(join(dir, '.kamal', 'secrets'), secrets, { mode: 0o600 });
  const git = (...args: string[]) => sh(['git', '-C', dir, '-c', 'user.name=bench', '-c', 'user.email=bench@localhost', ...args]);
  await git('init', '-q');
  await git('add', '.');
  await git('commit', '-qm', 'examples/rails');
  return dir;
}

/**
 * What bench/pipeline.sh needs, made before the clock starts (kamal-dev makes the same things from
 * its plan): a key, kamal-dev's own bootstrap scripts, the transformed compose file, the env file.
 */
export async function pipelineWorkDir(appImage: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-bench-pipeline-'));
  await sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'kamal-dev-bench', '-f', join(dir, 'id_ed25519')]);
  // A fresh VM is Debian bookworm without Docker: the probe kamal-dev runs first finds exactly this.
  writeFileSync(join(dir, 'bootstrap-install.sh'), installScript({ osId: 'debian', codename: 'bookworm', docker: '', compose: '', engine: '' }));
  writeFileSync(join(dir, 'bootstrap-start.sh'), START_ENGINE_SCRIPT);
  cpSync(join(__dirname, '..', 'pipeline-compose.yaml'), join(dir, 'compose.yaml'));
  // The env file Compose interpolates from: the run-time secret and the image this pipeline pushes.
  const file = join(dir, 'secrets.env');
  const values = { APP_IMAGE: appImage, POSTGRES_IMAGE: DEPLOY_ENV.POSTGRES_IMAGE, POSTGRES_PASSWORD: SECRETS.POSTGRES_PASSWORD };
  writeFileSync(file, Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  chmodSync(file, 0o600);
  return dir;
}
