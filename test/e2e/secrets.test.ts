import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { sh } from '../lab/exec';
import { Canaries, containerInspections, imageSightings, makeCanaries, Place, sightings, stateFiles, vmFileSightings, workflowHistories } from '../support/canaries';
import { faultService, labEnv, temporalClient } from '../support/faults';
import { describeWithLab, labInfo } from '../support/lab';
import { CliResult, exampleProject, execInStack, kamalDev, removeDeploymentLeftovers } from '../support/kamal-dev';
import { UpcloudFake } from '../support/upcloud-fake';
import { projectIdentity } from '../../src/state/identity';

jest.setTimeout(20 * 60_000);

const OK = faultService('sec-ok');
const FAILS = faultService('sec-fail');
const UPCLOUD = faultService('sec-upc');
const sha = (value: string) => createHash('sha256').update(value).digest('hex');

/** A local feature that installs nothing (its stage writes the devcontainer.metadata label), and a secret in containerEnv. */
const WITH_FEATURE = {
  devcontainer: { features: { './features/canary': {} }, containerEnv: { CONTAINER_SECRET: '${localEnv:COMMAND_SECRET}' } },
  files: {
    '.devcontainer/features/canary/devcontainer-feature.json': JSON.stringify({ id: 'canary', version: '1.0.0' }),
    '.devcontainer/features/canary/install.sh': '#!/bin/sh\necho canary feature installed\n',
  },
};

/** The Rails example with a secret of every kind, each a canary; `postCreate` is its postCreateCommand. */
function railsWithCanaries(service: string, canaries: Canaries, postCreate: string, onFailure: string, extra: Partial<typeof WITH_FEATURE> = {}): string {
  const registry = labInfo<{ address: string; username: string; password: string }>('registry');
  return exampleProject('rails', {
    '.devcontainer/devcontainer.json': JSON.stringify({
      dockerComposeFile: ['compose.yaml'],
      service: 'app',
      workspaceFolder: '/workspaces/rails-app',
      remoteEnv: { API_AUTH: 'Bearer ${localEnv:REMOTE_ENV_SECRET}' },
      postCreateCommand: postCreate,
      ...extra.devcontainer,
    }),
    ...extra.files,
    'config/dev.yml': [
      `service: ${service}`,
      'image: {devcontainer: .devcontainer/devcontainer.json}',
      `registry: {server: "${registry.address}", namespace: e2e, username_env: LAB_REGISTRY_USER, password_env: LAB_REGISTRY_PASSWORD}`,
      'build: {secrets: [RAILS_MASTER_KEY]}',
      'secrets: [COMMAND_SECRET]',
      'vms: {count: 1}',
      `temporal: {task_queue: ${service}-queue}`,
      `on_failure: ${onFailure}`,
    ].join('\n'),
    '.kamal/secrets': [
      `RAILS_MASTER_KEY=${canaries.build}`,
      `POSTGRES_PASSWORD=${canaries.runtime}`,
      `REMOTE_ENV_SECRET=${canaries.remoteEnv}`,
      `LAB_REGISTRY_USER=${registry.username}`,
      `LAB_REGISTRY_PASSWORD='${registry.password}'`,
      '',
    ].join('\n'),
  });
}

/** An image devcontainer on the UpCloud fake: provisioned, then it fails at SSH (nothing listens on 127.0.0.1:22). */
function upcloudProject(fake: UpcloudFake): string {
  const dir = exampleProject('simple-image', {
    'config/dev.yml': [
      `service: ${UPCLOUD}`,
      `provider: {type: upcloud, zone: de-fra1, plan: 1xCPU-1GB, api_url: "${fake.url}"}`,
      'ssh: {key_path: .kamal/upcloud_key}',
      `temporal:\n  task_queue: ${UPCLOUD}-queue\n  timeouts:\n    ssh: {start_to_close: 5s, maximum_attempts: 1}`,
    ].join('\n'),
    '.kamal/secrets': `UPCLOUD_USERNAME=${fake.username}\nUPCLOUD_PASSWORD=${fake.password}\n`,
  });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, '.kamal', 'upcloud_key')]);
  return dir;
}

describeWithLab(['registry', 'localRegistry', 'postgres', 'temporal', 'vmImage'], 'canaries: no secret value where it should not be', () => {
  const dirs: string[] = [];
  let fake: UpcloudFake | undefined;

  afterAll(async () => {
    await fake?.close();
    for (const service of [OK, FAILS, UPCLOUD]) await removeDeploymentLeftovers(service);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a deploy, one failing at postCreateCommand and one on UpCloud leave the canaries only in the 600 files and the env that needs them', async () => {
    const registry = labInfo<{ username: string; password: string }>('registry');
    // The lab registry's password is fixed; a Docker config would hold it as base64 of user:password.
    const registryAuth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
    const canaries: Canaries = { ...makeCanaries(['build', 'runtime', 'remoteEnv', 'command', 'provider']), registry: registry.password, registryAuth };
    const since = new Date(Date.now() - 1000);
    const env = { ...labEnv('localhost:5556'), COMMAND_SECRET: canaries.command };
    const printed: Place[] = [];
    const cli = async (label: string, dir: string, args: string[]): Promise<CliResult> => {
      const result = await kamalDev(args, { cwd: dir, env });
      printed.push({ where: `${label}: kamal-dev ${args.join(' ')}`, text: result.stdout + result.stderr });
      return result;
    };

    const proof = 'bin/db-probe && printf %s "$API_AUTH" | sha256sum > /tmp/remote-env.sha && printf %s "${localEnv:COMMAND_SECRET}" | sha256sum > /tmp/command.sha';
    const ok = railsWithCanaries(OK, canaries, proof, 'destroy', WITH_FEATURE);
    const fails = railsWithCanaries(FAILS, canaries, 'env; echo "auth $API_AUTH, command ${localEnv:COMMAND_SECRET}"; exit 3', 'keep');
    fake = await UpcloudFake.start('canary-api-user', canaries.provider);
    fake.publicIp = '127.0.0.1';
    const upcloud = upcloudProject(fake);
    dirs.push(ok, fails, upcloud);

    for (const args of [['plan'], ['plan', '--json']]) expect((await cli('ok', ok, args)).code).toBe(0);
    const deployed = await cli('ok', ok, ['deploy', '--json', '--verbose']);
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout).outcome).toBe('deployed');
    // The compose file's plain variables are named before the deploy starts; the secrets are not.
    expect(deployed.stderr).toMatch(/^warning: BASE_IMAGE, POSTGRES_IMAGE from the environment or .env: not secrets, so their values are stored/m);
    // Each secret reached what needs it: remoteEnv and the command in postCreateCommand, the app's environment.
    const project = OK;
    expect(await execInStack(`${OK}-1`, project, 'app', ['cat', '/tmp/remote-env.sha'])).toBe(`${sha(`Bearer ${canaries.remoteEnv}`)}  -`);
    expect(await execInStack(`${OK}-1`, project, 'app', ['cat', '/tmp/command.sha'])).toBe(`${sha(canaries.command)}  -`);
    expect(await execInStack(`${OK}-1`, project, 'app', ['printenv', 'PGPASSWORD'])).toBe(canaries.runtime);
    expect(await execInStack(`${OK}-1`, project, 'app', ['printenv', 'CONTAINER_SECRET'])).toBe(canaries.command);
    // The features stage labelled the image with devcontainer.json's entry as written: each secret by name.
    const image = (JSON.parse(deployed.stdout) as { images: { image: string }[] }).images[0].image;
    const label = JSON.parse(await sh(['docker', 'image', 'inspect', '--format', '{{index .Config.Labels "devcontainer.metadata"}}', image])) as Record<string, unknown>[];
    expect(label.map((entry) => entry.id ?? 'devcontainer.json')).toEqual(['./features/canary', 'devcontainer.json']);
    expect(label[1]).toMatchObject({ containerEnv: { CONTAINER_SECRET: '${localEnv:COMMAND_SECRET}' }, remoteEnv: { API_AUTH: 'Bearer ${localEnv:REMOTE_ENV_SECRET}' }, postCreateCommand: proof });

    const failed = await cli('fails', fails, ['deploy']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`postCreateCommand failed on ${FAILS}-1 (exit code 3)`);
    expect(failed.stderr).toContain('auth Bearer [REDACTED], command [REDACTED]');

    const onUpcloud = await cli('upcloud', upcloud, ['deploy', '--json', '--verbose']);
    expect(onUpcloud.code).toBe(1);
    expect(fake.servers.size).toBe(0);

    const found: string[] = [];
    for (const vm of [`${OK}-1`, `${FAILS}-1`]) {
      const files = await vmFileSightings(vm, canaries);
      found.push(...files.sightings);
      // The files meant to hold secrets: the stack's env file for Compose, and the copied env files.
      expect(files.secretFiles.map((f) => f.split('/').slice(4).join('/')).sort()).toEqual(['env/1-app.env', 'secrets.env']);
      found.push(...sightings(await containerInspections(vm, ['PGPASSWORD', 'POSTGRES_PASSWORD', 'CONTAINER_SECRET']), canaries));
    }
    // The features image: its label and config, its history, and every layer (the Dockerfile's ones below the features').
    found.push(...(await imageSightings(image, canaries)));
    for (const dir of [ok, fails, upcloud]) expect((await cli('cleanup', dir, ['remove', '--all', '--force'])).code).toBe(0);

    const { client, close } = await temporalClient();
    // Deploys and removes by service or folder name, each project's operation lock by its identity.
    const names = [OK, FAILS, UPCLOUD, ...dirs.map((d) => d.split('/').pop()!.toLowerCase()), ...dirs.map(projectIdentity)];
    const histories = await workflowHistories(client, since, names).finally(close);
    expect(histories.filter((h) => h.where.includes('kamal-dev-lock/')).length).toBeGreaterThanOrEqual(3);
    expect(histories.length).toBeGreaterThanOrEqual(9);
    found.push(...sightings([...printed, ...histories, ...[ok, fails, upcloud].flatMap(stateFiles)], canaries));
    if (found.length > 0) process.stderr.write(`canaries found:\n  ${found.join('\n  ')}\n`);
    expect(found).toEqual([]);
  });
});
