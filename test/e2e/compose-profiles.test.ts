import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithLab, labInfo } from '../support/lab';
import { kamalDev, removeDeploymentLeftovers, vmContainers } from '../support/kamal-dev';
import { faultService, labEnv, writeFiles } from '../support/faults';

jest.setTimeout(10 * 60_000);

const SERVICE = faultService('e2e-profiles');

interface Summary {
  outcome: string;
  vms: { name: string; state: string; containers?: { service: string; state: string }[] }[];
}

/**
 * Services with `profiles:` are started only when named, as Compose would. `broken` names an image
 * that does not exist: deployed by mistake, its pull fails the deploy.
 */
function project(image: string): string {
  const dir = mkdtempSync(join(tmpdir(), `kamal-dev-e2e-${SERVICE}-`));
  const idle = `    image: ${image}\n    entrypoint: ["sleep", "infinity"]\n    init: true\n`;
  writeFiles(dir, {
    '.devcontainer/devcontainer.json': '{"dockerComposeFile": "compose.yaml", "service": "app"}',
    '.devcontainer/compose.yaml': `services:\n  app:\n${idle}  tools:\n${idle}    profiles: [tools]\n  broken:\n    image: localhost:5555/lab/no-such-image:1\n    profiles: [never]\n`,
    'config/dev.yml': config(''),
  });
  return dir;
}

const config = (extra: string) => `service: ${SERVICE}\nvms: {count: 1}\ntemporal: {task_queue: ${SERVICE}-queue}\n${extra}`;

const servicesOf = (summary: Summary) => summary.vms.map((vm) => vm.containers?.map((c) => `${c.service}:${c.state}`).sort());

describeWithLab(['localRegistry', 'postgres', 'temporal', 'vmImage'], 'compose profiles', () => {
  let dir: string;
  afterAll(async () => {
    await removeDeploymentLeftovers(SERVICE);
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys healthy without a profiled service; with its profile named in config/dev.yml, deploys it; remove leaves nothing', async () => {
    dir = project(`${labInfo<{ address: string }>('localRegistry').address}/lab/postgres:15`);
    const env = labEnv();

    const first = await kamalDev(['deploy', '--json'], { cwd: dir, env });
    expect(first.stderr).not.toMatch(/\n\s+at /);
    expect(first.code).toBe(0);
    expect(servicesOf(JSON.parse(first.stdout) as Summary)).toEqual([['app:running']]);

    writeFiles(dir, { 'config/dev.yml': config('compose: {profiles: [tools]}\n') });
    const second = await kamalDev(['deploy', '--json'], { cwd: dir, env });
    expect(second.code).toBe(0);
    expect(servicesOf(JSON.parse(second.stdout) as Summary)).toEqual([['app:running', 'tools:running']]);

    expect((await kamalDev(['remove', '--all', '--force'], { cwd: dir, env })).code).toBe(0);
    expect(await vmContainers(SERVICE)).toEqual([]);
  });

  it('names the key when config/dev.yml asks for a profile no service has (exit 2, nothing made)', async () => {
    writeFiles(dir, { 'config/dev.yml': config('compose: {profiles: [tols]}\n') });
    const result = await kamalDev(['deploy'], { cwd: dir, env: labEnv() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/config\/dev\.yml: compose\.profiles: no compose service has the profile "tols"/);
    expect(await vmContainers(SERVICE)).toEqual([]);
  });
});
