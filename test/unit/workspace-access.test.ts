import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmHandle } from '../../src/domain/vm';
import { portSpecs } from '../../src/cli/forward';
import { containerArgv, INTERACTIVE_SHELL, opensshArgv } from '../../src/cli/remoteShell';
import { withoutHosts } from '../../src/cli/forgetAccess';
import { includeInUserConfig, sshConfigText } from '../../src/cli/sshConfig';
import { privatePorts, publishedPorts } from '../../src/spec/compose-ports';
import type { Devcontainer } from '../../src/spec/devcontainer';
import { fakePlan } from '../support/fakePlan';
import { HOSTILE } from '../support/hostile';

const plan = fakePlan(
  { projectDir: '/work/shop', skipBuild: false, skipPush: false },
  { stack: { projectName: 'shop', primaryService: 'app', compose: { services: { app: { image: 'x' }, db: { image: 'pg' } } }, files: [], secrets: [], dropped: [] }, ssh: { user: 'dev', port: 22, keyPath: '/keys/id' } },
);
const vm: VmHandle = { deployment: 'shop', name: 'shop-1', index: 0, id: 'c1', provider: 'docker', ssh: { host: '127.0.0.1', port: 2201, user: 'dev' }, ip: '127.0.0.1' };
const devcontainer = {
  workspaceFolder: '/workspaces/shop',
  remoteUser: 'vscode',
  remoteEnv: { EDITOR: 'vim', UNSET: null },
  forwardPorts: [3000, 'db:5432'],
  portLabels: { '3000': 'Rails' },
  shown: '.devcontainer/devcontainer.json',
} as unknown as Devcontainer;

describe('kamal-dev ssh / exec argv', () => {
  it('runs in the primary service as remoteUser, in workspaceFolder, with remoteEnv (null entries left out)', () => {
    const argv = containerArgv(plan, devcontainer, 'app', ['bin/rails', 'c'], false);
    expect(argv.slice(argv.indexOf('exec'))).toEqual(['exec', '-T', '--workdir', '/workspaces/shop', '--user', 'vscode', '--env', 'EDITOR=vim', 'app', 'bin/rails', 'c']);
    expect(containerArgv(plan, devcontainer, 'app', INTERACTIVE_SHELL, true)).not.toContain('-T');
  });

  it('runs in another service as its image defines', () => {
    const argv = containerArgv(plan, devcontainer, 'db', ['psql'], false);
    expect(argv.slice(argv.indexOf('exec'))).toEqual(['exec', '-T', 'db', 'psql']);
  });

  it("pins the project's key and host keys, and sends the remote command as one argument quoted once", () => {
    const argv = opensshArgv(plan, vm, { argv: ['docker', 'ps'], root: true, tty: false });
    expect(argv).toEqual([
      '-i', '/work/shop/.kamal/ssh/id_ed25519', '-p', '2201',
      '-o', 'UserKnownHostsFile=/work/shop/.kamal/known_hosts', '-o', 'StrictHostKeyChecking=yes', '-o', 'IdentitiesOnly=yes', '-o', 'LogLevel=ERROR',
      '-T', 'dev@127.0.0.1', '--', 'sudo -n -- docker ps',
    ]);
    expect(opensshArgv(plan, vm, { tty: true }).slice(-2)).toEqual(['-t', 'dev@127.0.0.1']);
  });

  it.each(HOSTILE)('the remote shell gets back exactly %j', (value) => {
    const line = opensshArgv(plan, vm, { argv: ['printf', '[%s]\\n', value, 'c;echo INJECTED'], tty: false }).at(-1)!;
    expect(execFileSync('sh', ['-c', line]).toString()).toBe(`[${value}]\n[c;echo INJECTED]\n`);
  });
});

describe('kamal-dev forward ports', () => {
  it("reads forwardPorts: numbers are the primary service's, service:port another's, labels from portsAttributes", () => {
    expect(portSpecs(plan, devcontainer, [])).toEqual([
      { service: 'app', port: 3000, label: 'Rails' },
      { service: 'db', port: 5432 },
    ]);
    expect(portSpecs(plan, devcontainer, ['db:5432'])).toEqual([{ service: 'db', port: 5432 }]);
  });

  it('refuses a port that is not one, or a service that is not in the stack', () => {
    expect(() => portSpecs(plan, devcontainer, ['http'])).toThrow('expected PORT or SERVICE:PORT, got "http"');
    expect(() => portSpecs(plan, devcontainer, ['70000'])).toThrow(/expected PORT/);
    expect(() => portSpecs(plan, devcontainer, ['redis:6379'])).toThrow('no service named redis in the stack (redis:6379)');
  });
});

describe('private ports', () => {
  const services = {
    db: { ports: [{ mode: 'ingress', target: 5432, published: '5432', protocol: 'tcp' }] },
    app: { ports: [{ target: 3000, published: '3000', host_ip: '0.0.0.0' }, { target: 9000, published: '9000', host_ip: '10.0.0.5' }] },
    worker: { image: 'w' },
  };

  it('binds every port published on all addresses to 127.0.0.1, keeps public_ports and specific addresses', () => {
    const out = privatePorts(services, ['app:3000'], 'config/dev.yml');
    expect(out.db.ports).toEqual([{ mode: 'ingress', target: 5432, published: '5432', protocol: 'tcp', host_ip: '127.0.0.1' }]);
    expect(out.app.ports).toEqual(services.app.ports);
    expect(out.worker).toBe(services.worker);
    expect(publishedPorts(out, ['app:3000']).map((p) => `${p.service}:${p.target}@${p.hostIp}${p.public ? ' public' : ''}`)).toEqual([
      'db:5432@127.0.0.1',
      'app:3000@0.0.0.0 public',
      'app:9000@10.0.0.5',
    ]);
  });

  it('refuses a public_ports entry that nothing publishes, naming the key', () => {
    expect(() => privatePorts(services, ['app:3000', 'db:6543'], 'config/dev.yml')).toThrow('db:6543 is not a port that the compose files publish');
  });
});

describe('kamal-dev ssh-config', () => {
  it('writes one Host entry per VM with the project key and known hosts', () => {
    expect(sshConfigText(plan, [vm])).toContain(
      [
        'Host shop-1.kamal-dev',
        '  HostName 127.0.0.1',
        '  Port 2201',
        '  User dev',
        '  IdentityFile /work/shop/.kamal/ssh/id_ed25519',
        '  IdentitiesOnly yes',
        '  UserKnownHostsFile /work/shop/.kamal/known_hosts',
        '  StrictHostKeyChecking yes',
      ].join('\n'),
    );
  });

  it("includes the file at the top of the user's config once, keeping what is there", () => {
    const home = mkdtempSync(join(tmpdir(), 'kamal-dev-sshconfig-'));
    try {
      const userConfig = join(home, 'config');
      writeFileSync(userConfig, 'Host github.com\n  User git\n');
      expect(includeInUserConfig('/work/shop/.kamal/ssh_config', userConfig)).toBe(true);
      expect(includeInUserConfig('/work/shop/.kamal/ssh_config', userConfig)).toBe(false);
      const text = readFileSync(userConfig, 'utf8');
      expect(text.indexOf('Include /work/shop/.kamal/ssh_config')).toBeLessThan(text.indexOf('Host github.com'));
      expect(text.match(/Include/g)).toHaveLength(1);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('drops the entries of removed VMs only, keeping the header and the others', () => {
    const vms = ['shop-1', 'shop-2', 'shop-10'].map((name, i) => ({ ...vm, name, ssh: { ...vm.ssh, port: 2201 + i } }));
    const text = withoutHosts(sshConfigText(plan, vms), ['shop-1']);
    expect(text).toBe(sshConfigText(plan, vms.slice(1)));
    expect(withoutHosts(text, ['shop-3'])).toBe(text);
  });
});
