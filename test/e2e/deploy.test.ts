import { rmSync } from 'node:fs';
import { sh } from '../lab/exec';
import { describeWithLab, labInfo } from '../support/lab';
import type { DeployProgress } from '../../src/workflows/types';
import { startCli } from '../support/faults';
import { expectFailedRedeployRollsBack } from '../support/failedRedeploy';
import { expectJson } from '../support/json-shapes';
import { execInStack, exampleProject, kamalDev, removeDeploymentLeftovers, vmContainers, type CliResult } from '../support/kamal-dev';

jest.setTimeout(15 * 60_000);

interface Summary {
  outcome: string;
  seed?: { image: string; pushed: boolean; files: number };
  images: { image: string; imageId: string; reused?: boolean }[];
  vms: { name: string; state: string; containers?: { service: string; state: string; health?: string }[] }[];
}

const MASTER_KEY = 'e2e-master-key-$(not run)';
const temporal = () => labInfo<{ address: string }>('temporal').address;

/** The Rails-like example as a user has it, pointed at what the lab serves instead of Docker Hub. */
function railsProject(service: string, registry: string, postgresImage: string, secrets: string) {
  const dir = exampleProject('rails', {
    // A task queue of its own: a worker of another test run on the lab's server (older code, maybe) never takes its tasks.
    'config/dev.yml': `service: ${service}\nimage:\n  devcontainer: .devcontainer/devcontainer.json\n${registry}build:\n  secrets: [RAILS_MASTER_KEY]\nvms:\n  count: 3\ntemporal:\n  task_queue: ${service}-${process.pid}\n`,
    '.kamal/secrets': `RAILS_MASTER_KEY='${MASTER_KEY}'\nPOSTGRES_PASSWORD=e2e-pg-password\n${secrets}`,
  });
  const env = { BASE_IMAGE: 'debian:bookworm-slim', POSTGRES_IMAGE: postgresImage, TEMPORAL_ADDRESS: temporal() };
  return { dir, env };
}

/**
 * `deploy --json --follow --no-cache` (a build long enough to watch), and a second CLI process that
 * attaches to it (`deploy --attach`, no id: the project's running deploy): both show the build's
 * current step and the push's layers while those steps run, read from the activities' heartbeats.
 */
async function deployWatched(project: { dir: string; env: NodeJS.ProcessEnv }): Promise<CliResult> {
  const first = startCli(['deploy', '--json', '--follow', '--no-cache'], project.dir, project.env);
  await first.workflowId;
  const attached = await kamalDev(['deploy', '--attach'], { cwd: project.dir, env: project.env });
  expect(attached.code).toBe(0);
  const lines = attached.stderr.split('\n');
  const at = (pattern: RegExp) => lines.findIndex((line) => pattern.test(line));
  expect(at(/^ +app \[(\S+ )?\d+\/\d+\] .*(running|CACHED|done)/)).toBeGreaterThanOrEqual(0);
  expect(at(/^ +app \[(\S+ )?\d+\/\d+\] /)).toBeLessThan(at(/✔ buildImages/));
  expect(at(/^ +\S+:\S+ +push(ing|ed) \d+\/\d+ layers/)).toBeGreaterThanOrEqual(0);
  expect(at(/^ +\S+:\S+ +push(ing|ed) /)).toBeLessThan(at(/✔ pushImages/));

  const result = await first.done;
  const documents = result.stdout.trim().split('\n');
  const progress = documents.slice(0, -1).map((line) => expectJson('deploy --follow', line).progress as DeployProgress);
  const live = (step: string) => progress.flatMap((p) => p.steps.filter((s) => s.name === step && s.state === 'running' && s.live).map((s) => s.live));
  expect(live('buildImages').some((l) => l?.phase === 'build' && Object.values(l.services).some((s) => /^\[(\S+ )?\d+\/\d+\] /.test(s.step)))).toBe(true);
  expect(live('pushImages').some((l) => l?.phase === 'push' && Object.keys(l.images).length > 0)).toBe(true);
  expect(JSON.stringify(progress)).not.toContain(MASTER_KEY);
  return { ...result, stdout: documents.at(-1) ?? '' };
}

async function deployAndProve(service: string, project: { dir: string; env: NodeJS.ProcessEnv }, options: { redeploy?: boolean; watch?: boolean } = {}): Promise<void> {
  const result = options.watch ? await deployWatched(project) : await kamalDev(['deploy', '--json'], { cwd: project.dir, env: project.env });
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.code).toBe(0);
  const summary = expectJson('deploy', result.stdout) as unknown as Summary;
  expect(summary.outcome).toBe('deployed');
  expect(summary.vms.map((vm) => [vm.name, vm.state])).toEqual([1, 2, 3].map((i) => [`${service}-${i}`, 'deployed']));
  // The workspace and the env file came from the registry, as the workspace seed (never .kamal/).
  expect(summary.seed).toMatchObject({ pushed: true, image: expect.stringMatching(/-workspace@sha256:[0-9a-f]{64}$/) });
  expect(await sh(['docker', 'exec', summary.vms[0].name, 'sh', '-c', `ls -A /opt/kamal-dev/*/workspaces/*/`])).not.toMatch(/^\.kamal$/m);
  for (const vm of summary.vms) {
    expect(vm.containers?.map((c) => [c.service, c.state, c.health ?? null]).sort()).toEqual([
      ['app', 'running', null],
      ['db', 'running', 'healthy'],
    ]);
  }
  expect(await vmContainers(service)).toEqual(summary.vms.map((vm) => vm.name));

  // Each app talks to its own Postgres: the cluster id the app sees is its VM's database's, and all differ.
  const plan = expectJson('plan', (await kamalDev(['plan', '--json'], { cwd: project.dir, env: project.env })).stdout) as { compose: { name: string } };
  const seen = new Set<string>();
  for (const vm of summary.vms) {
    const probe = await execInStack(vm.name, plan.compose.name, 'app', ['db-probe']);
    // The second probe of this database: devcontainer.json's postCreateCommand (bin/db-probe) ran the first.
    expect(probe).toContain('probes=2');
    const own = await execInStack(vm.name, plan.compose.name, 'db', ['psql', '-U', 'postgres', '-Atc', 'select system_identifier from pg_control_system()']);
    expect(probe).toContain(`system_identifier=${own}`);
    seen.add(own);
  }
  expect(seen.size).toBe(3);

  // The build secret reached the build (the Dockerfile's step fails without it and leaves a
  // fingerprint; BuildKit's cache ignores secret values, so which value is not asserted here) and the
  // value is in no layer or history entry of the image.
  expect(await execInStack(summary.vms[0].name, plan.compose.name, 'app', ['cat', '/etc/master-key-fingerprint'])).toMatch(/^[0-9a-f]{12}$/);
  const image = (await sh(['docker', 'images', '-q', '--filter', `label=kamal-dev.service=${service}`])).split('\n')[0];
  expect(await sh(['bash', '-c', `docker save ${image} | tar -xO --wildcards '*' 2>/dev/null | grep -c -F -- '${MASTER_KEY}' || true`])).toBe('0');
  expect(await sh(['docker', 'history', '--no-trunc', image])).not.toContain(MASTER_KEY);

  if (options.redeploy) {
    // Unchanged source builds the same image: a second deploy leaves every container as it was.
    const containerIds = () => Promise.all(summary.vms.map((vm) => sh(['docker', 'exec', vm.name, 'docker', 'compose', '-p', plan.compose.name, 'ps', '-q'])));
    const before = await containerIds();
    expect(before.map((ids) => ids.split('\n').length)).toEqual([2, 2, 2]);
    // --detach with local VMs: they need this machine to the end, so it follows the deploy and says so.
    const again = await kamalDev(['deploy', '--json', '--detach'], { cwd: project.dir, env: project.env });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('--detach: this command returns only when it ends: its VMs are local (provider docker)');
    const redeployed = JSON.parse(again.stdout) as Summary;
    expect(redeployed.outcome).toBe('deployed');
    // Content-addressed: the unchanged tree is the same seed, which the registry has already.
    expect(redeployed.seed).toEqual({ ...summary.seed, pushed: false });
    // Nothing the image is made of changed since the --no-cache build: it is taken as it is, no buildx run.
    expect(redeployed.images).toEqual(summary.images.map((i) => ({ ...i, reused: true })));
    expect(await containerIds()).toEqual(before);
    // Same container, so postCreateCommand did not run again: this probe is the third, not the fourth.
    expect(await execInStack(summary.vms[0].name, plan.compose.name, 'app', ['db-probe'])).toContain('probes=3');
    // A redeploy that fails verify is rolled back: status below sees every stack running as before.
    await expectFailedRedeployRollsBack(project, summary.vms.map((vm) => vm.name), plan.compose.name);
  }

  const status = await kamalDev(['status', '--all', '--json'], { cwd: project.dir, env: project.env });
  expect(status.code).toBe(0);
  const report = expectJson('status', status.stdout).vms as { name: string; containers: { service: string; state: string }[] }[];
  const listed = await kamalDev(['list', '--json'], { cwd: project.dir, env: project.env });
  expect((expectJson('list', listed.stdout).vms as { name: string }[]).map((vm) => vm.name)).toEqual(summary.vms.map((vm) => vm.name));
  expect(report.flatMap((vm) => vm.containers.map((c) => `${vm.name}/${c.service}/${c.state}`)).sort()).toEqual(
    summary.vms.flatMap((vm) => [`${vm.name}/app/running`, `${vm.name}/db/running`]).sort(),
  );

  // Each VM's inner Docker data lives in an anonymous volume that must go with it.
  const vmVolumes = await Promise.all(
    summary.vms.map((vm) => sh(['docker', 'inspect', '-f', '{{range .Mounts}}{{if eq .Destination "/var/lib/docker"}}{{.Name}}{{end}}{{end}}', vm.name])),
  );
  expect(vmVolumes.filter(Boolean)).toHaveLength(3);
  const removed = await kamalDev(['remove', '--all', '--force', '--json'], { cwd: project.dir, env: project.env });
  expect(removed.code).toBe(0);
  expect(expectJson('remove', removed.stdout).outcome).toBe('ok');
  expect(await vmContainers(service)).toEqual([]);
  const volumes = (await sh(['docker', 'volume', 'ls', '-q'])).split('\n');
  expect(vmVolumes.filter((v) => volumes.includes(v))).toEqual([]);
  expect(await sh(['docker', 'images', '-q', '--filter', 'dangling=true', '--filter', `label=kamal-dev.service=${service}`])).toBe('');
}

describeWithLab(['registry', 'localRegistry', 'postgres', 'temporal', 'vmImage'], 'kamal-dev deploy of the Rails example', () => {
  const dirs: string[] = [];
  const services = ['e2e-auth', 'e2e-local', 'e2e-simple'];

  afterAll(async () => {
    for (const service of services) await removeDeploymentLeftovers(service);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('brings up 3 isolated stacks through an authenticated registry, and removes them', async () => {
    const registry = labInfo<{ address: string; username: string; password: string }>('registry');
    const project = railsProject(
      'e2e-auth',
      `registry:\n  server: ${registry.address}\n  namespace: e2e\n  username_env: LAB_REGISTRY_USER\n  password_env: LAB_REGISTRY_PASSWORD\n`,
      `${registry.address}/lab/postgres:15`,
      `LAB_REGISTRY_USER=${registry.username}\nLAB_REGISTRY_PASSWORD='${registry.password}'\n`,
    );
    dirs.push(project.dir);
    await deployAndProve('e2e-auth', project, { watch: true });
  });

  it('brings up 3 isolated stacks through the local registry, and removes them', async () => {
    const local = labInfo<{ address: string }>('localRegistry');
    const project = railsProject('e2e-local', '', `${local.address}/lab/postgres:15`, '');
    dirs.push(project.dir);
    // A git checkout, as most projects are: the tag is its commit, the same for the redeploy.
    await sh(['git', '-C', project.dir, 'init', '-q']);
    await sh(['git', '-C', project.dir, 'add', '-A']);
    await sh(['git', '-C', project.dir, '-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', 'commit', '-qm', 'rails example']);
    await deployAndProve('e2e-local', project, { redeploy: true });
  });

  it('still deploys a simple image devcontainer', async () => {
    const local = labInfo<{ address: string }>('localRegistry');
    const dir = exampleProject('simple-image', { 'config/dev.yml': 'service: e2e-simple\nvms:\n  count: 1\n' });
    dirs.push(dir);
    const env = { SIMPLE_IMAGE: `${local.address}/lab/postgres:15`, TEMPORAL_ADDRESS: temporal() };
    const result = await kamalDev(['deploy', '--json'], { cwd: dir, env });
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as Summary;
    expect(summary.vms.map((vm) => [vm.name, vm.state, vm.containers?.map((c) => c.state)])).toEqual([['e2e-simple-1', 'deployed', ['running']]]);
    expect((await kamalDev(['remove', '--all', '--force'], { cwd: dir, env })).code).toBe(0);
    expect(await vmContainers('e2e-simple')).toEqual([]);
  });
});
