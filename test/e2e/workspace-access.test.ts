import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../lab/exec';
import { POSTGRES_IMAGE } from '../lab/parts/postgres';
import { expectJson } from '../support/json-shapes';
import { describeWithLab, labInfo } from '../support/lab';
import { exampleProject, kamalDev, removeDeploymentLeftovers } from '../support/kamal-dev';

jest.setTimeout(15 * 60_000);

const SERVICE = 'e2e-access';
const BIN = join(__dirname, '..', '..', 'bin', 'kamal-dev');
/** Arguments a remote shell would split, expand or run if they were not quoted exactly once. */
const HOSTILE_ARGS = ['a  b', 'c;echo INJECTED', '$HOME', 'x\ny', "it's", '`id`'];
const EXPECTED = HOSTILE_ARGS.map((a) => `[${a}]\n`).join('');
const ATTACH_SECRET = 'attach-s3cret-value';
/** Says where it runs, and leaves a hash of its secret in the container: proof that it ran, how often, and with what. */
const POST_ATTACH = 'echo "postAttach as $(id -un) in $(pwd)"; printf %s "${localEnv:ATTACH_SECRET}" | sha256sum >> /tmp/attached.sha';

/**
 * The Rails example with ports published as a compose file on a laptop would (Postgres on 5432, the
 * app on 3000), remoteUser and remoteEnv set: one deploy of 2 VMs serves every access test.
 */
function accessProject() {
  const local = labInfo<{ address: string }>('localRegistry');
  const postgres = `${local.address}/lab/postgres:15`;
  const example = join(__dirname, '..', '..', 'examples', 'rails', '.devcontainer', 'devcontainer.json');
  const devcontainer = readFileSync(example, 'utf8')
    .replace('"dockerComposeFile": ["compose.yaml"]', '"dockerComposeFile": ["compose.yaml", "compose.ports.yaml"]')
    .replace('"forwardPorts"', `"postAttachCommand": ${JSON.stringify(POST_ATTACH)},\n  "forwardPorts"`)
    .replace('"forwardPorts"', '"remoteUser": "nobody",\n  "remoteEnv": { "ACCESS_CHECK": "remote env reached" },\n  "portsAttributes": { "3000": { "label": "Rails" } },\n  "forwardPorts"');
  const dir = exampleProject('rails', {
    'config/dev.yml': `service: ${SERVICE}\nbuild:\n  secrets: [RAILS_MASTER_KEY]\nvms:\n  count: 2\n`,
    '.kamal/secrets': `RAILS_MASTER_KEY='access-master-key'\nPOSTGRES_PASSWORD=access-pg-password\nATTACH_SECRET=${ATTACH_SECRET}\n`,
    '.devcontainer/devcontainer.json': devcontainer,
    '.devcontainer/compose.ports.yaml': 'services:\n  app:\n    ports: ["3000:3000"]\n  db:\n    ports: ["5432:5432"]\n',
  });
  const env = { BASE_IMAGE: 'debian:bookworm-slim', POSTGRES_IMAGE: postgres, TEMPORAL_ADDRESS: labInfo<{ address: string }>('temporal').address };
  return { dir, env, postgres };
}

describeWithLab(['localRegistry', 'postgres', 'temporal', 'vmImage'], 'working in a deployed workspace', () => {
  let project: ReturnType<typeof accessProject>;
  const vm1 = `${SERVICE}-1`;
  const vm2 = `${SERVICE}-2`;
  const cli = (args: string[]) => kamalDev(args, { cwd: project.dir, env: project.env });
  const userSshConfig = join(homedir(), '.ssh', 'config');
  const savedSshConfig = `${userSshConfig}.kamal-dev-e2e-backup`;

  beforeAll(async () => {
    project = accessProject();
    const deployed = await cli(['deploy', '--json']);
    expect(deployed.stderr).not.toMatch(/\n\s+at /);
    expect({ code: deployed.code, stdout: deployed.stdout.slice(-3000) }).toMatchObject({ code: 0 });
  });

  let forwarding: ReturnType<typeof spawn> | undefined;

  /** An interactive `kamal-dev ssh VM`: script(1) is the terminal; exec keeps /bin/sh out of the way (see test/integration/interrupt.test.ts). */
  async function attachOnTerminal(vm: string, input: string): Promise<{ code: number | null; output: string }> {
    const child = spawn('script', ['-qfec', `exec ${BIN} ssh ${vm}`, '/dev/null'], { cwd: project.dir, env: { ...process.env, ...project.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.stdin.write(input);
    return { code: await exited, output };
  }

  afterAll(async () => {
    forwarding?.kill('SIGKILL');
    // ssh-config --write touched this machine's ~/.ssh/config and Docker contexts: put them back.
    if (existsSync(savedSshConfig)) {
      copyFileSync(savedSshConfig, userSshConfig);
      rmSync(savedSshConfig);
    } else rmSync(userSshConfig, { force: true });
    for (const name of [vm1, vm2]) await sh(['docker', 'context', 'rm', '-f', name]).catch(() => undefined);
    if (project) {
      await cli(['remove', '--all', '--force']);
      rmSync(project.dir, { recursive: true, force: true });
    }
    await removeDeploymentLeftovers(SERVICE);
  });

  it('exec runs as remoteUser in workspaceFolder with remoteEnv, and passes the exit code through', async () => {
    const result = await cli(['exec', vm1, '--', 'sh', '-c', 'echo "$(id -un) $(pwd) $ACCESS_CHECK"; exit 7']);
    expect(result.stdout).toBe('nobody /workspaces/rails-app remote env reached\n');
    expect(result.code).toBe(7);
    const db = await cli(['exec', vm1, '--service', 'db', '--', 'id', '-un']);
    expect([db.code, db.stdout]).toEqual([0, 'root\n']);
    const unknown = await cli(['exec', vm1, '--service', 'redis', '--', 'true']);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no service named redis')]);
  });

  it.each([
    ['exec', [vm1, '--']],
    ['ssh', [vm1, '--']],
    ['ssh --host', [vm1, '--host', '--']],
  ])('%s hands its arguments to the remote command exactly as given', async (command, args) => {
    const result = await cli([command.split(' ')[0], ...args, 'printf', '[%s]\\n', ...HOSTILE_ARGS]);
    expect([result.code, result.stdout]).toEqual([0, EXPECTED]);
  });

  it('ssh --host lands on the VM, ssh without it in the container', async () => {
    expect((await cli(['ssh', vm1, '--host', '--', 'cat', '/etc/hostname'])).stdout.trim()).not.toBe((await cli(['ssh', vm1, '--', 'cat', '/etc/hostname'])).stdout.trim());
    expect((await cli(['ssh', vm1, '--', 'sh', '-c', 'exit 3'])).code).toBe(3);
  });

  it('ssh on a terminal runs postAttachCommand, then gives an interactive shell in the container', async () => {
    const attached = () => cli(['exec', vm1, '--', 'cat', '/tmp/attached.sha']);
    // exec, ssh -- CMD and ssh --host above did not run it.
    expect((await attached()).code).not.toBe(0);
    const { code, output } = await attachOnTerminal(vm1, 'echo "in $(pwd) as $(id -un): $((6 * 7))"\nexit 4\n');
    expect(code).toBe(4);
    expect(output).toContain('in /workspaces/rails-app as nobody: 42');
    expect(output).toContain('postAttach as nobody in /workspaces/rails-app');
    expect(output).not.toContain(ATTACH_SECRET);
    expect((await attached()).stdout).toBe(`${createHash('sha256').update(ATTACH_SECRET).digest('hex')}  -\n`);
    // The secret's env file was there only while the command ran.
    expect(await sh(['docker', 'exec', vm1, 'find', '/opt/kamal-dev', '-name', 'attach-*'])).toBe('');
  });

  it('a failing postAttachCommand still opens the shell, and status shows it (no secret) until an attach succeeds', async () => {
    const file = join(project.dir, '.devcontainer', 'devcontainer.json');
    const original = readFileSync(file, 'utf8');
    const failing = 'printf "key=%s\\n" "${localEnv:ATTACH_SECRET}"; echo "bundle: no such gem" >&2; exit 6';
    writeFileSync(file, original.replace(JSON.stringify(POST_ATTACH), JSON.stringify(failing)));
    try {
      const attached = await attachOnTerminal(vm2, 'echo "shell $((6 * 7))"\nexit 0\n');
      expect(attached.code).toBe(0);
      expect(attached.output).toContain('shell 42');
      const status = await cli(['status', vm2, '--json']);
      expect(status.stdout).not.toContain(ATTACH_SECRET);
      const [report] = expectJson('status', status.stdout).vms as { failedCommands: unknown[] }[];
      expect(report.failedCommands).toEqual([{ hook: 'postAttachCommand', exitCode: 6, lines: ['key=[REDACTED]', 'bundle: no such gem'], at: expect.any(String) }]);
      expect((await cli(['status', vm2])).stdout).toMatch(new RegExp(`\\n${vm2}: postAttachCommand failed \\(exit code 6\\) at \\S+\\n  key=\\[REDACTED\\]\\n  bundle: no such gem`));
    } finally {
      writeFileSync(file, original);
    }
    expect((await attachOnTerminal(vm2, 'exit 0\n')).code).toBe(0);
    expect(expectJson('status', (await cli(['status', vm2, '--json'])).stdout).vms).toEqual([expect.objectContaining({ name: vm2, failedCommands: [] })]);
  });

  it('publishes compose ports on 127.0.0.1 of the VM only: nothing but sshd listens on other addresses', async () => {
    for (const vm of [vm1, vm2]) {
      const listening = (await sh(['docker', 'exec', vm, 'ss', '-Hltn'])).split('\n').map((line) => line.trim().split(/\s+/)[3]);
      expect(listening).toEqual(expect.arrayContaining(['127.0.0.1:5432', '127.0.0.1:3000']));
      const elsewhere = listening.filter((address) => !/^(127\.\d+\.\d+\.\d+|\[::1\]):\d+$/.test(address));
      expect(new Set(elsewhere.map((address) => address.replace(/^.*:/, '')))).toEqual(new Set(['22']));
    }
  });

  it('forward --all reaches each VM through its own ports, until Ctrl-C', async () => {
    // An HTTP answer from the app container of VM 1 (perl is in every Debian image).
    const server = `use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 3000, Listen => 5, ReuseAddr => 1) or die; while (my $c = $s->accept) { <$c>; print $c "HTTP/1.0 200 OK\\r\\n\\r\\nhello from the app\\n"; close $c }`;
    await sh(['docker', 'exec', vm1, 'docker', 'compose', '-p', SERVICE, 'exec', '-d', 'app', 'perl', '-e', server]);

    const child = spawn(BIN, ['forward', '--all', '--json'], { cwd: project.dir, env: { ...process.env, ...project.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    forwarding = child;
    // One JSON document once every forward listens (then the command forwards until it is stopped).
    const parsed = () => {
      try {
        return JSON.parse(output) as unknown;
      } catch {
        return undefined;
      }
    };
    while (!parsed()) await new Promise((resolve) => setTimeout(resolve, 100));
    const { forwards } = expectJson('forward', output) as { forwards: { vm: string; service: string; port: number; local: number; label?: string }[] };
    const local = (vm: string, service: string) => forwards.find((f) => f.vm === vm && f.service === service)!.local;
    expect(forwards.find((f) => f.vm === vm1 && f.service === 'app')).toMatchObject({ port: 3000, label: 'Rails' });
    expect(local(vm2, 'app')).toBeGreaterThanOrEqual(4000);

    const page = await fetch(`http://127.0.0.1:${local(vm1, 'app')}/`);
    expect(await page.text()).toBe('hello from the app\n');
    const psql = (port: number) =>
      sh(['docker', 'run', '--rm', '--network', 'host', '-e', 'PGPASSWORD=access-pg-password', '--entrypoint', 'psql', POSTGRES_IMAGE, '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-Atc', 'select system_identifier from pg_control_system()']);
    const [first, second] = [await psql(local(vm1, 'db')), await psql(local(vm2, 'db'))];
    expect(first).toMatch(/^\d+$/);
    expect(second).not.toBe(first);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${local(vm1, 'app')}/`)).rejects.toThrow();
    // forward attaches no shell: postAttachCommand ran once, for the interactive ssh above.
    expect((await cli(['exec', vm1, '--', 'wc', '-l', '/tmp/attached.sha'])).stdout).toBe('1 /tmp/attached.sha\n');
  });

  it('ssh-config makes NAME.kamal-dev reachable with OpenSSH, and --write a Docker context per VM', async () => {
    const printed = await cli(['ssh-config']);
    expect(printed.code).toBe(0);
    const file = join(project.dir, '.kamal', 'printed_ssh_config');
    writeFileSync(file, printed.stdout);
    expect((await sh(['ssh', '-F', file, '-o', 'BatchMode=yes', `${vm1}.kamal-dev`, 'true']).then(() => 0, () => 1))).toBe(0);

    if (existsSync(userSshConfig)) copyFileSync(userSshConfig, savedSshConfig);
    const config = expectJson('ssh-config', (await cli(['ssh-config', '--json'])).stdout).config as string;
    expect(config.trimEnd()).toBe(printed.stdout.trimEnd());
    const written = await cli(['ssh-config', '--write', '--json']);
    expect(written.code).toBe(0);
    expect(expectJson('ssh-config', written.stdout)).toMatchObject({ hosts: [`${vm1}.kamal-dev`, `${vm2}.kamal-dev`], contexts: [vm1, vm2] });
    expect(readFileSync(userSshConfig, 'utf8')).toContain(`Include ${join(project.dir, '.kamal', 'ssh_config')}`);
    const ps = await sh(['docker', '--context', vm2, 'ps', '--format', '{{.Names}}']);
    expect(ps.split('\n').sort()).toEqual([`${SERVICE}-app-1`, `${SERVICE}-db-1`]);
  });

  it('remove drops the Docker context and ssh_config entry of the VM it removes, and only those', async () => {
    const file = join(project.dir, '.kamal', 'ssh_config');
    expect((await cli(['remove', vm2, '--force'])).code).toBe(0);
    expect(await sh(['docker', 'context', 'inspect', vm2]).then(() => 'kept', () => 'gone')).toBe('gone');
    expect(readFileSync(file, 'utf8')).not.toContain(`Host ${vm2}.kamal-dev`);
    expect(readFileSync(file, 'utf8')).toContain(`Host ${vm1}.kamal-dev`);
    const ps = await sh(['docker', '--context', vm1, 'ps', '--format', '{{.Names}}']);
    expect(ps.split('\n').sort()).toEqual([`${SERVICE}-app-1`, `${SERVICE}-db-1`]);
  });
});
