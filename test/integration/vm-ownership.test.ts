import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import Docker from 'dockerode';
import { createVmActivities } from '../../src/activities/vm';
import { main } from '../../src/cli/main';
import { freeLocalPort, vmContainerOptions } from '../../src/providers/docker-container';
import { adoptedBy } from '../../src/providers/docker-owner';
import { LABELS } from '../../src/providers/types';
import { DEFAULT_BASE_IMAGE, ensureVmImage } from '../../src/providers/vmImage';
import { sh } from '../lab/exec';
import { LAB_LABEL } from '../lab/lab';
import { describeWithLab } from '../support/lab';
import { expectJson } from '../support/json-shapes';
import { cleanupProjects, IMAGE_DEVCONTAINER, tempProject } from '../support/project';
import { destroyDeployment, testPlan, testProject } from '../support/vms';

jest.setTimeout(300_000);

/** Two checkouts of a project in folders of the same name, and machines of that name nobody here made. */
describeWithLab(['vmImage'], 'local VMs belong to one project identity', () => {
  const service = `vms-own-${process.pid}`;
  const docker = new Docker();
  const activities = createVmActivities({ resolveSecret: async (name) => name });
  const vm = (index: number) => ({ deployment: service, name: `${service}-${index}`, index });
  let mine: ReturnType<typeof testPlan>;
  let theirs: ReturnType<typeof testPlan>;

  beforeAll(async () => {
    const first = await testProject('own');
    const second = join(mkdtempSync(join(tmpdir(), 'kamal-dev-vms-own-twin-')), basename(first.dir));
    mkdirSync(second);
    await sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(second, 'id_ed25519')]);
    mine = testPlan({ projectDir: first.dir, keyPath: first.keyPath, service });
    theirs = testPlan({ projectDir: second, keyPath: join(second, 'id_ed25519'), service });
    expect(theirs.identity).not.toBe(mine.identity);
  });

  afterAll(async () => {
    await activities.close();
    await destroyDeployment(service);
  });

  const idOf = async (name: string) => (await docker.getContainer(name).inspect()).Id;
  /** A local VM as kamal-dev made them before project identities: every label but kamal-dev.project. */
  const unownedVm = async (name: string, deployment: string) => {
    const options = vmContainerOptions(
      { name, labels: { [LABELS.service]: deployment, [LABELS.deployment]: deployment, [LABELS.index]: name.slice(name.lastIndexOf('-') + 1) }, sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOldVmKey old' },
      { image: await ensureVmImage(DEFAULT_BASE_IMAGE), sshPort: await freeLocalPort(), sshUser: 'root', identity: 'unused' },
    );
    delete options.Labels![LABELS.project];
    return options;
  };

  it('a second project of the same folder name never touches the first one\'s VMs', async () => {
    const made = await activities.provisionVm({ plan: mine, vm: vm(1), createdBy: 'mine-run' });
    const refused = await activities.provisionVm({ plan: theirs, vm: vm(1), createdBy: 'their-run' }).catch((e) => e);
    expect(refused).toMatchObject({
      type: 'ProviderError',
      nonRetryable: true,
      message: `VM ${vm(1).name} belongs to another kamal-dev project (${LABELS.project}=${mine.identity}); kamal-dev left it untouched`,
    });
    expect(refused.details[0].description).toMatch(`kamal-dev adopt ${vm(1).name}`);
    expect(await activities.listVms({ plan: theirs })).toEqual([]);
    expect(await activities.destroyVm({ plan: theirs, vm: vm(1), createdBy: 'their-run' })).toEqual({ outcome: 'kept' });
    await expect(activities.destroyVm({ plan: theirs, vm: vm(1) })).rejects.toMatchObject({ type: 'ProviderError', message: expect.stringMatching(/belongs to another kamal-dev project/) });
    await expect(activities.stopVm({ plan: theirs, vm: vm(1) })).rejects.toMatchObject({ type: 'ProviderError' });
    await activities.removeStack({ plan: theirs, vm: made });

    const after = await docker.getContainer(vm(1).name).inspect();
    expect({ id: after.Id, running: after.State.Running, startedAt: after.State.StartedAt }).toEqual({ id: made.id, running: true, startedAt: expect.any(String) });
    expect((await activities.listVms({ plan: mine })).map((h) => h.id)).toEqual([made.id]);
  });

  it('a container of a VM\'s name that kamal-dev did not make is refused by name and left running', async () => {
    const name = vm(2).name;
    await sh(['docker', 'run', '-d', '--name', name, '--label', `${LAB_LABEL}=vms`, '--label', `${LABELS.deployment}=${service}`, DEFAULT_BASE_IMAGE, 'sleep', 'infinity']);
    const before = await idOf(name);
    const refused = await activities.provisionVm({ plan: mine, vm: vm(2), createdBy: 'mine-run' }).catch((e) => e);
    expect(refused).toMatchObject({ type: 'ProviderError', nonRetryable: true, message: `a machine named ${name} exists and is not a kamal-dev VM; kamal-dev left it untouched` });
    // The deploy's compensation, as a failed provision runs it: nothing this run made, nothing destroyed.
    expect(await activities.destroyVm({ plan: mine, vm: vm(2), createdBy: 'mine-run' })).toEqual({ outcome: 'kept' });
    await expect(activities.destroyVm({ plan: mine, vm: vm(2) })).rejects.toMatchObject({ type: 'ProviderError' });
    await expect(activities.adoptVm({ plan: mine, name })).rejects.toMatchObject({ message: expect.stringMatching(/is not a kamal-dev VM/) });
    expect(await idOf(name)).toBe(before);
    expect((await docker.getContainer(name).inspect()).State.Running).toBe(true);
  });

  it('a VM made before project identities is refused until adopted; adopted, it is found, listed and removable', async () => {
    const name = vm(3).name;
    const old = await docker.createContainer(await unownedVm(name, service));
    await old.start();

    const refused = await activities.provisionVm({ plan: mine, vm: vm(3), createdBy: 'mine-run' }).catch((e) => e);
    expect(refused.message).toBe(`VM ${name} was made before kamal-dev recorded project identities (it has no ${LABELS.project} label); kamal-dev left it untouched`);
    await expect(activities.adoptVm({ plan: mine, name: `${service}-99` })).rejects.toMatchObject({ type: 'ConfigInvalid', message: `no kamal-dev VM named ${service}-99 exists` });

    const adopted = await activities.adoptVm({ plan: mine, name });
    expect(adopted).toMatchObject({ name, id: old.id, index: 3, provider: 'docker' });
    expect(await adoptedBy(docker, old.id)).toBe(mine.identity);
    const found = await activities.provisionVm({ plan: mine, vm: vm(3), createdBy: 'mine-run' });
    expect(found).toMatchObject({ id: old.id, created: false });
    // Made with another checkout's key: adopt authorised this project's, so the VM can be deployed to.
    await activities.waitForSsh({ plan: mine, vm: found });
    expect((await activities.listVms({ plan: mine })).map((h) => h.name).sort()).toEqual([vm(1).name, name]);
    expect(await activities.listVms({ plan: theirs })).toEqual([]);

    expect(await activities.destroyVm({ plan: mine, vm: vm(3) })).toEqual({ outcome: 'destroyed' });
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('`kamal-dev adopt NAME` takes a VM over; a name no VM has is exit 2 with a message', async () => {
    const cliService = `${service}-cli`;
    const projectDir = tempProject({ ...IMAGE_DEVCONTAINER, 'config/dev.yml': `service: ${cliService}\n` });
    const name = `${cliService}-1`;
    const old = await docker.createContainer(await unownedVm(name, cliService));
    const output: string[] = [];
    const stdout: string[] = [];
    const capture = (stream: NodeJS.WriteStream, also: string[] = []) => jest.spyOn(stream, 'write').mockImplementation((chunk) => also.push(String(chunk)) + output.push(String(chunk)) > 0);
    const spies = [capture(process.stdout, stdout), capture(process.stderr)];
    try {
      expect(await main(['node', 'kamal-dev', '-C', projectDir, 'adopt', name])).toBe(0);
      expect(output.join('')).toMatch(new RegExp(`${name}.*adopted: now this project's`));
      expect(await adoptedBy(docker, old.id)).toBe(readFileSync(join(projectDir, '.kamal', 'project_id'), 'utf8').split(' ')[0]);
      // Adopting is idempotent: again, with --json, the one documented document.
      stdout.length = 0;
      expect(await main(['node', 'kamal-dev', '-C', projectDir, '--json', 'adopt', name])).toBe(0);
      expect(expectJson('adopt', stdout.join(''))).toMatchObject({ outcome: 'ok', service: cliService, vms: [{ name }] });
      output.length = 0;
      expect(await main(['node', 'kamal-dev', '-C', projectDir, 'adopt', `${cliService}-7`])).toBe(2);
      expect(output.join('')).toBe(`error: no kamal-dev VM named ${cliService}-7 exists\n  Run \`kamal-dev list\` to see the VMs of this project; adopt takes over a VM that exists but belongs to another identity.\n`);
    } finally {
      spies.forEach((spy) => spy.mockRestore());
      await old.remove({ force: true, v: true });
      cleanupProjects();
    }
  });

  it('adoption is exclusive: once the twin checkout adopts a VM, the checkout that made it never touches it again', async () => {
    const name = vm(1).name;
    const made = await docker.getContainer(name).inspect();
    expect(made.Config.Labels[LABELS.createdBy]).toBe('mine-run');
    await activities.adoptVm({ plan: theirs, name });
    expect(await adoptedBy(docker, made.Id)).toBe(theirs.identity);
    expect((await activities.listVms({ plan: theirs })).map((h) => h.id)).toEqual([made.Id]);
    expect(await activities.listVms({ plan: mine })).toEqual([]);

    const foreign = { type: 'ProviderError', message: `VM ${name} belongs to another kamal-dev project (${LABELS.project}=${theirs.identity}); kamal-dev left it untouched` };
    await expect(activities.provisionVm({ plan: mine, vm: vm(1), createdBy: 'mine-run' })).rejects.toMatchObject(foreign);
    // The maker's compensation, as a cancel of the run that made it would run it: kept, though the label names that run.
    expect(await activities.destroyVm({ plan: mine, vm: vm(1), createdBy: 'mine-run' })).toEqual({ outcome: 'kept' });
    await expect(activities.stopVm({ plan: mine, vm: vm(1) })).rejects.toMatchObject(foreign);
    // Stopped, the VM still says whose it is (read without a running container).
    await activities.stopVm({ plan: theirs, vm: vm(1) });
    await expect(activities.startVm({ plan: mine, vm: vm(1) })).rejects.toMatchObject(foreign);
    await expect(activities.destroyVm({ plan: mine, vm: vm(1) })).rejects.toMatchObject(foreign);
    expect((await docker.getContainer(name).inspect()).Id).toBe(made.Id);

    expect(await activities.destroyVm({ plan: theirs, vm: vm(1) })).toEqual({ outcome: 'destroyed' });
    await expect(docker.getContainer(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
