import { containerSettings, withContainerSettings } from '../../src/spec/devcontainer-container';
import { parseMount } from '../../src/spec/devcontainer-mounts';
import { composePort } from '../../src/spec/devcontainer-ports';
import { mapRunArgs } from '../../src/spec/devcontainer-runargs';
import { checkHostRequirements, sizeInGb, upcloudPlanSize } from '../../src/spec/host-requirements';
import type { ProviderConfig } from '../../src/spec/plan';

const FILE = '.devcontainer/devcontainer.json';
const P = '/home/dev/src/shop';
const context = { file: FILE, projectDir: P, devcontainerDir: `${P}/.devcontainer` };
const where = { file: FILE, key: 'mounts[0]' };

describe('parseMount', () => {
  it('reads docker --mount strings with every spelling', () => {
    expect(parseMount('source=gems,target=/usr/local/bundle,type=volume', where)).toEqual({ type: 'volume', source: 'gems', target: '/usr/local/bundle' });
    expect(parseMount('type=bind,src=/a,dst=/b,readonly', where)).toEqual({ type: 'bind', source: '/a', target: '/b', read_only: true, bind: { create_host_path: true } });
    expect(parseMount('type=tmpfs,destination=/tmp/x', where)).toEqual({ type: 'tmpfs', target: '/tmp/x' });
  });

  it('reads the spec object form', () => {
    expect(parseMount({ type: 'volume', source: 'cache', target: '/cache' }, where)).toEqual({ type: 'volume', source: 'cache', target: '/cache' });
  });

  it.each([
    ['source=x', /needs a target/],
    ['type=nfs,target=/x', /"nfs" is not bind, volume or tmpfs/],
    ['type=bind,target=/x', /bind mount needs a source/],
    [',', /is not a mount/],
  ])('refuses %s naming the key', (text, message) => {
    expect(() => parseMount(text, where)).toThrow(expect.objectContaining({ key: 'mounts[0]', message: expect.stringMatching(message) }));
  });
});

describe('mapRunArgs', () => {
  it('maps the docker run flags that have a Compose field, in both spellings', () => {
    const result = mapRunArgs(['--cap-add=SYS_PTRACE', '--cap-add', 'NET_ADMIN', '--security-opt', 'seccomp=unconfined', '--privileged', '--init', '-e', 'A=1', '--env=B=x=y', '--network=host', '-h', 'box', '--shm-size=1g', '--ulimit', 'nofile=1024:2048', '--add-host=db:127.0.0.1', '--device=/dev/fuse', '-p', '8080:80', '--label', 'x=y', '--cpus=2', '-u', 'dev']);
    expect(result.service).toEqual({
      cap_add: ['SYS_PTRACE', 'NET_ADMIN'],
      security_opt: ['seccomp=unconfined'],
      privileged: true,
      init: true,
      environment: { A: '1', B: 'x=y' },
      network_mode: 'host',
      hostname: 'box',
      shm_size: '1g',
      ulimits: { nofile: { soft: 1024, hard: 2048 } },
      extra_hosts: ['db:127.0.0.1'],
      devices: ['/dev/fuse'],
      ports: [{ mode: 'ingress', host_ip: '127.0.0.1', target: 80, published: '8080', protocol: 'tcp' }],
      labels: { x: 'y' },
      cpus: 2,
      user: 'dev',
    });
    expect(result.unmapped).toEqual([]);
  });

  it('maps -v and --mount to volumes', () => {
    expect(mapRunArgs(['-v', 'cache:/cache', '--volume=/host:/in:ro', '--mount', 'type=volume,source=v,target=/v']).volumes).toEqual([
      { type: 'volume', source: 'cache', target: '/cache' },
      { type: 'bind', source: '/host', target: '/in', read_only: true, bind: { create_host_path: true } },
      { type: 'volume', source: 'v', target: '/v' },
    ]);
  });

  it('names each flag it cannot map with its value and its index', () => {
    expect(mapRunArgs(['--gpus', 'all', '--rm', '--name=x', '--cap-add']).unmapped).toEqual([
      { key: 'runArgs[0]', arg: '--gpus all' },
      { key: 'runArgs[2]', arg: '--rm' },
      { key: 'runArgs[3]', arg: '--name=x' },
      { key: 'runArgs[4]', arg: '--cap-add' },
    ]);
  });
});

describe('composePort', () => {
  it('publishes on the VM loopback unless an address is given', () => {
    expect(composePort(3000)).toEqual({ mode: 'ingress', host_ip: '127.0.0.1', target: 3000, published: '3000', protocol: 'tcp' });
    expect(composePort('8000:3000')).toMatchObject({ host_ip: '127.0.0.1', target: 3000, published: '8000' });
    expect(composePort('0.0.0.0:53:53/udp')).toEqual({ mode: 'ingress', host_ip: '0.0.0.0', target: 53, published: '53', protocol: 'udp' });
  });
});

describe('containerSettings', () => {
  const raw = {
    mounts: ['source=gems,target=/gems,type=volume', `source=${P}/tmp,target=/tmp/p,type=bind`, 'source=/var/run/docker.sock,target=/var/run/docker.sock,type=bind'],
    privileged: true,
    capAdd: ['SYS_PTRACE'],
    securityOpt: ['seccomp=unconfined'],
    init: true,
    containerUser: 'vscode',
    runArgs: ['--cap-add=NET_ADMIN', '-v', '/etc/hosts:/h'],
    workspaceMount: `source=${P},target=/src,type=bind,consistency=cached`,
    appPort: [3000, '8080:80'],
  };

  it('applies every key to an image devcontainer, leaving out (and naming) bind mounts of local-only paths', () => {
    const settings = containerSettings(raw, 'image', context);
    expect(settings.service).toEqual({ cap_add: ['NET_ADMIN', 'SYS_PTRACE'], security_opt: ['seccomp=unconfined'], privileged: true, init: true, user: 'vscode' });
    expect(settings.volumes).toEqual([
      { type: 'volume', source: 'gems', target: '/gems' },
      { type: 'bind', source: `${P}/tmp`, target: '/tmp/p', bind: { create_host_path: true } },
    ]);
    expect(settings.ports.map((p) => p.published)).toEqual(['3000', '8080']);
    expect(settings.workspaceMount).toEqual({ type: 'bind', source: P, target: '/src', bind: { create_host_path: true } });
    expect(settings.warnings.map((w) => w.key)).toEqual(['mounts[2]', 'runArgs']);
    expect(settings.warnings[0].message).toMatch(/bind mount of \/var\/run\/docker.sock, a path on this machine only/);
  });

  it('ignores runArgs, workspaceMount and appPort for Compose (the keys warning names them)', () => {
    const settings = containerSettings(raw, 'compose', context);
    expect(settings.service).toEqual({ cap_add: ['SYS_PTRACE'], security_opt: ['seccomp=unconfined'], privileged: true, init: true, user: 'vscode' });
    expect(settings.ports).toEqual([]);
    expect(settings.workspaceMount).toBeUndefined();
  });

  it('lets a runArgs --user win over containerUser, as on the reference docker run line', () => {
    expect(containerSettings({ containerUser: 'a', runArgs: ['--user', 'b'] }, 'image', context).service.user).toBe('b');
  });

  it('joins lists into the service and replaces a mount at the same target', () => {
    const settings = containerSettings({ capAdd: ['SYS_PTRACE'], mounts: ['source=new,target=/data,type=volume'], containerUser: 'dev' }, 'compose', context);
    const service = withContainerSettings({ image: 'x', user: 'root', cap_add: ['NET_ADMIN'], volumes: [{ type: 'volume', source: 'old', target: '/data' }, { type: 'volume', source: 'k', target: '/k' }] }, settings);
    expect(service).toEqual({ image: 'x', user: 'dev', cap_add: ['NET_ADMIN', 'SYS_PTRACE'], volumes: [{ type: 'volume', source: 'k', target: '/k' }, { type: 'volume', source: 'new', target: '/data' }] });
  });
});

describe('hostRequirements', () => {
  const upcloud = (plan: string): ProviderConfig => ({ type: 'upcloud', zone: 'fi-hel1', plan, usernameSecret: 'U', passwordSecret: 'P' });
  const files = { devcontainer: FILE, config: 'config/dev.yml' };

  it('reads sizes and UpCloud plan names', () => {
    expect([sizeInGb('8gb'), sizeInGb('512MB'), sizeInGb('1tb')]).toEqual([8, 0.5, 1024]);
    expect(upcloudPlanSize('2xCPU-4GB')).toEqual({ cpus: 2, memoryGb: 4 });
    expect(upcloudPlanSize('HIMEM-4xCPU-32GB')).toEqual({ cpus: 4, memoryGb: 32 });
    expect(upcloudPlanSize('custom')).toBeUndefined();
  });

  it('passes an UpCloud plan that is large enough, warning about storage it cannot check', () => {
    expect(checkHostRequirements({ cpus: 2, memory: '4gb', storage: '32gb' }, upcloud('2xCPU-4GB'), files)).toEqual([
      { file: FILE, key: 'hostRequirements.storage', message: 'not checked: the UpCloud plan name does not say the storage' },
    ]);
  });

  it('fails the plan when the UpCloud plan is smaller, naming both files', () => {
    expect(() => checkHostRequirements({ cpus: 4 }, upcloud('2xCPU-4GB'), files)).toThrow(expect.objectContaining({ file: FILE, key: 'hostRequirements.cpus', message: 'the UpCloud plan 2xCPU-4GB has 2 CPU(s), the devcontainer needs 4 CPUs', description: expect.stringMatching(/config\/dev.yml \(provider.plan\)/) }));
    expect(() => checkHostRequirements({ memory: '8gb' }, upcloud('2xCPU-4GB'), files)).toThrow(/has 4 GB of memory, the devcontainer needs 8gb/);
  });

  it('warns where the provider does not choose sizes', () => {
    expect(checkHostRequirements({ cpus: 2, gpu: true }, { type: 'docker' }, files).map((w) => `${w.key}: ${w.message}`)).toEqual([
      'hostRequirements.cpus: not checked: the docker provider does not choose VM sizes',
      'hostRequirements.gpu: not checked',
    ]);
  });
});
