import { join } from 'node:path';
import { reportError } from '../../src/cli/output';
import { isKamalDevError, KamalDevError } from '../../src/errors';
import { composeBuilds } from '../../src/spec/compose-builds';
import { transformStack } from '../../src/spec/compose';
import { loadConfig } from '../../src/spec/config';
import { loadSecrets } from '../../src/spec/secrets';
import { resolveSpec } from '../../src/spec/resolve';
import { cleanupProjects, IMAGE_DEVCONTAINER, tempProject } from '../support/project';

afterAll(cleanupProjects);

const CONFIG = 'config/dev.yml';
const SECRETS = '.kamal/secrets';
const DC = '.devcontainer/devcontainer.json';

const config = (yaml: string) => () => loadConfig(tempProject({ [CONFIG]: yaml }), { env: {} });
const resolveWith = (files: Record<string, string>, options: { tag?: string; count?: number; from?: string } = {}) => () =>
  resolveSpec({ projectDir: tempProject({ ...IMAGE_DEVCONTAINER, ...files }), tag: options.tag ?? 't1', count: options.count, devcontainerPath: options.from, env: { HOME: '/h' } });
const devcontainer = (json: string, files: Record<string, string> = {}) => resolveWith({ [DC]: json, ...files });
const secrets = (text: string, name = 'A') => () => {
  const dir = tempProject({ [SECRETS]: text });
  return loadSecrets(join(dir, SECRETS), {}).resolveSecret(name);
};
const buildsOf = (build: Record<string, unknown>, topSecrets: Record<string, unknown> = {}) => () =>
  composeBuilds({ app: { build: { context: tempProject({ Dockerfile: 'FROM scratch' }), ...build } } }, topSecrets as never, { app: 'r/a:t' }, { file: 'compose.yml' });

type Case = [string, () => unknown, { file?: string | RegExp; key?: string; message: RegExp }];

const cases: Case[] = [
  // config/dev.yml
  ['broken YAML', config('service: [\n'), { file: CONFIG, message: /invalid YAML at line \d+, column \d+/ }],
  ['a list instead of a mapping', config('- a\n'), { file: CONFIG, message: /expected a mapping/ }],
  ['duplicate key', config('service: a\nservice: b\n'), { file: CONFIG, message: /invalid YAML.*unique/i }],
  ['unknown top-level key', config('servic: x'), { file: CONFIG, key: 'servic', message: /unknown key/ }],
  ['unknown nested key', config('vms: {cuont: 2}'), { file: CONFIG, key: 'vms.cuont', message: /unknown key/ }],
  ['count is a word', config('vms: {count: three}'), { file: CONFIG, key: 'vms.count', message: /expected a number, got "three"/ }],
  ['count is zero', config('vms: {count: 0}'), { file: CONFIG, key: 'vms.count', message: /at least 1/ }],
  ['count is a fraction', config('vms: {count: 1.5}'), { file: CONFIG, key: 'vms.count', message: /expected a whole number/ }],
  ['service with capitals', config('service: My App'), { file: CONFIG, key: 'service', message: /lowercase letters/ }],
  ['registry server not a string', config('registry: {server: 5}'), { file: CONFIG, key: 'registry.server', message: /expected a string, got 5/ }],
  ['registry username twice', config('registry: {username_env: A, username: B}'), { file: CONFIG, key: 'registry.username', message: /either username_env or username/ }],
  ['registry secret name invalid', config('registry: {password_env: bad-name}'), { file: CONFIG, key: 'registry.password_env', message: /variable name/ }],
  ['registry password list of two', config('registry: {password: [A, B]}'), { file: CONFIG, key: 'registry.password', message: /at most 1 entry/ }],
  ['registry section is a string', config('registry: ghcr.io'), { file: CONFIG, key: 'registry', message: /expected a mapping, got "ghcr.io"/ }],
  ['unknown provider type', config('provider: {type: aws}'), { file: CONFIG, key: 'provider.type', message: /expected one of docker, ssh, upcloud, got "aws"/ }],
  ['ssh provider without hosts', config('provider: {type: ssh}'), { file: CONFIG, key: 'provider.hosts', message: /is required/ }],
  ['ssh provider with no host', config('provider: {type: ssh, hosts: []}'), { file: CONFIG, key: 'provider.hosts', message: /at least 1 entry/ }],
  ['upcloud without zone', config('provider: {type: upcloud, plan: 1xCPU-1GB}'), { file: CONFIG, key: 'provider.zone', message: /is required/ }],
  ['ssh host port out of range', config('provider: {type: ssh, hosts: [{host: a, port: 70000}]}'), { file: CONFIG, key: 'provider.hosts[0].port', message: /at most 65535/ }],
  ['ssh port as text', config('ssh: {port: "22"}'), { file: CONFIG, key: 'ssh.port', message: /expected a number, got "22"/ }],
  ['naming without {index}', config('naming: "{service}"'), { file: CONFIG, key: 'naming', message: /must contain \{index\}/ }],
  ['on_failure unknown', config('on_failure: maybe'), { file: CONFIG, key: 'on_failure', message: /expected one of destroy, keep, got "maybe"/ }],
  ['compose.profiles not a list', config('compose: {profiles: mail}'), { file: CONFIG, key: 'compose.profiles', message: /expected a list, got "mail"/ }],
  ['build secrets not a list', config('build: {secrets: X}'), { file: CONFIG, key: 'build.secrets', message: /expected a list/ }],
  ['build platform without arch', config('build: {platform: amd64}'), { file: CONFIG, key: 'build.platform', message: /os\/arch/ }],
  ['build args as a list', config('build: {args: [a]}'), { file: CONFIG, key: 'build.args', message: /expected a mapping, got a list/ }],
  ['temporal address without port', config('temporal: {address: localhost}'), { file: CONFIG, key: 'temporal.address', message: /host:port/ }],
  ['timeout without a unit', config('temporal: {timeouts: {long: {heartbeat: 10}}}'), { file: CONFIG, key: 'temporal.timeouts.long.heartbeat', message: /expected a string, got 10/ }],
  ['timeout in an unknown unit', config('temporal: {timeouts: {quick: {start_to_close: 2 minutes}}}'), { file: CONFIG, key: 'temporal.timeouts.quick.start_to_close', message: /duration like 500ms, 30s, 2m or 1h/ }],
  ['timeouts of an unknown profile', config('temporal: {timeouts: {build: {heartbeat: 5s}}}'), { file: CONFIG, key: 'temporal.timeouts.build', message: /unknown/i }],
  ['zero attempts', config('temporal: {timeouts: {ssh: {maximum_attempts: 0}}}'), { file: CONFIG, key: 'temporal.timeouts.ssh.maximum_attempts', message: /at least 1/ }],
  ['image.devcontainer not a string', config('image: {devcontainer: 5}'), { file: CONFIG, key: 'image.devcontainer', message: /expected a string, got 5/ }],
  ['explicit config file missing', () => loadConfig(tempProject({}), { configPath: 'deploy/dev.yml' }), { file: 'deploy/dev.yml', message: /config file not found/ }],
  ['VM names that are not host names', resolveWith({ [CONFIG]: 'naming: "VM_{index}"' }), { file: CONFIG, key: 'naming', message: /"VM_1", which is not a valid host name/ }],
  ['remote registry without namespace or user', resolveWith({ [CONFIG]: 'registry: {server: ghcr.io}' }), { file: CONFIG, key: 'registry.namespace', message: /is required for ghcr.io/ }],
  ['invalid image name', resolveWith({ [CONFIG]: 'image: {name: "me/App!!"}', [DC]: '{"dockerFile": "Dockerfile"}', '.devcontainer/Dockerfile': 'FROM scratch' }), { file: CONFIG, key: 'image.name', message: /not a valid image reference/ }],
  ['invalid --tag', resolveWith({}, { tag: 'bad tag' }), { key: '--tag', message: /"bad tag" is not a valid image tag/ }],
  ['--count 0', resolveWith({}, { count: 0 }), { key: '--count', message: /^expected a whole number from 1 to 100, got "0"$/ }],
  // .kamal/secrets
  ['secrets line without =', secrets('NOEQUALS\n'), { file: /\.kamal\/secrets$/, message: /line 1: expected KEY=value/ }],
  ['secret name starting with a digit', secrets('A=1\n1BAD=x'), { file: /\.kamal\/secrets$/, key: '1BAD', message: /line 2: "1BAD" is not a valid variable name/ }],
  ['unclosed quote', secrets('A="open\nB=2'), { file: /\.kamal\/secrets$/, key: 'A', message: /double quote is never closed/ }],
  ['text after the closing quote', secrets("A='x' y"), { file: /\.kamal\/secrets$/, key: 'A', message: /unexpected text after the closing quote/ }],
  ['failing $(command)', secrets('A=$(echo oops >&2; exit 3)'), { file: /\.kamal\/secrets$/, key: 'A', message: /line 1: the command in \$\(\.\.\.\) failed/ }],
  ['unclosed $(', secrets('A=$(echo x'), { file: /\.kamal\/secrets$/, key: 'A', message: /\$\( is never closed/ }],
  ['malformed ${', secrets('A=${B'), { file: /\.kamal\/secrets$/, key: 'A', message: /malformed/ }],
  ['missing secret name', secrets('B=1', 'GITHUB_TOKEN'), { file: /\.kamal\/secrets$/, key: 'GITHUB_TOKEN', message: /secret GITHUB_TOKEN is not set/ }],
  // devcontainer.json
  ['broken JSONC', devcontainer('{\n  "image": ,\n}'), { file: DC, message: /invalid JSON at line 2, column 12: ValueExpected/ }],
  ['devcontainer.json is a list', devcontainer('[]'), { file: DC, message: /expected a JSON object/ }],
  ['no image, Dockerfile or compose', devcontainer('{"name": "x"}'), { file: DC, message: /needs one of "image", "build.dockerfile" or "dockerComposeFile"/ }],
  ['image not a string', devcontainer('{"image": 5}'), { file: DC, key: 'image', message: /expected a string, got 5/ }],
  ['compose file that does not exist', devcontainer('{"dockerComposeFile": "nope.yml", "service": "app"}'), { file: DC, key: 'dockerComposeFile', message: /compose file nope.yml does not exist/ }],
  ['second compose file missing', devcontainer('{"dockerComposeFile": ["a.yml", "b.yml"], "service": "app"}', { '.devcontainer/a.yml': '' }), { file: DC, key: 'dockerComposeFile[1]', message: /b.yml does not exist/ }],
  ['compose without service', devcontainer('{"dockerComposeFile": "a.yml"}', { '.devcontainer/a.yml': '' }), { file: DC, key: 'service', message: /is required with dockerComposeFile/ }],
  ['build without dockerfile', devcontainer('{"build": {"context": ".."}}'), { file: DC, key: 'build.dockerfile', message: /build needs a dockerfile/ }],
  ['Dockerfile that does not exist', devcontainer('{"build": {"dockerfile": "Nope"}}'), { file: DC, key: 'build.dockerfile', message: /Dockerfile .*Nope does not exist/ }],
  ['build context outside the disk', devcontainer('{"build": {"dockerfile": "Dockerfile", "context": "/nonexistent/ctx"}}'), { file: DC, key: 'build.context', message: /\/nonexistent\/ctx is not a folder/ }],
  ['forwardPorts entry not a port', devcontainer('{"image": "x", "forwardPorts": ["abc"]}'), { file: DC, key: 'forwardPorts[0]', message: /port or "service:port"/ }],
  ['relative workspaceFolder', devcontainer('{"image": "x", "workspaceFolder": "src"}'), { file: DC, key: 'workspaceFolder', message: /absolute path/ }],
  ['containerEnv value a number', devcontainer('{"image": "x", "containerEnv": {"A": 1}}'), { file: DC, key: 'containerEnv.A', message: /expected a string, got 1/ }],
  ['postCreateCommand a number', devcontainer('{"image": "x", "postCreateCommand": 5}'), { file: DC, key: 'postCreateCommand', message: /got 5/ }],
  ['no devcontainer at all', () => resolveSpec({ projectDir: tempProject({}), tag: 't' }), { message: /no devcontainer.json found/ }],
  ['--from that does not exist', resolveWith({}, { from: 'elsewhere/devcontainer.json' }), { file: 'elsewhere/devcontainer.json', message: /devcontainer.json not found/ }],
  // compose model and builds
  [
    'service missing from the compose model',
    () => transformStack({ model: { services: { web: {} } }, primaryService: 'app', projectDir: '/p', projectName: 'p', images: {}, containerEnv: {}, overrideCommand: false, envFiles: {}, devcontainerFile: DC }),
    { file: DC, key: 'service', message: /service "app" is not in the compose model/ },
  ],
  ['compose build context that does not exist', buildsOf({ context: '/nonexistent/app' }), { file: 'compose.yml', key: 'services.app.build.context', message: /does not exist/ }],
  ['compose build context from git', buildsOf({ context: 'https://github.com/me/app.git' }), { file: 'compose.yml', key: 'services.app.build.context', message: /not a local folder/ }],
  ['compose Dockerfile that does not exist', buildsOf({ dockerfile: 'Nope' }), { file: 'compose.yml', key: 'services.app.build.dockerfile', message: /Dockerfile .*Nope does not exist/ }],
  ['inline Dockerfile', buildsOf({ dockerfile_inline: 'FROM x' }), { file: 'compose.yml', key: 'services.app.build.dockerfile_inline', message: /not supported/ }],
  ['build arg holding a secret', buildsOf({ args: { KEY: '__KAMAL_DEV_SECRET_RAILS_MASTER_KEY__' } }), { file: 'compose.yml', key: 'services.app.build.args.KEY', message: /uses the secret RAILS_MASTER_KEY/ }],
  ['build secret not defined', buildsOf({ secrets: [{ source: 'x' }] }), { file: 'compose.yml', key: 'services.app.build.secrets', message: /build secret x is not defined/ }],
  ['build secret from a file', buildsOf({ secrets: [{ source: 'key' }] }, { key: { file: '/k' } }), { file: 'compose.yml', key: 'secrets.key', message: /must come from the environment variable of the same name/ }],
];

describe('bad inputs give a clear error naming file and key', () => {
  it('has at least 40 cases', () => expect(cases.length).toBeGreaterThanOrEqual(40));

  it.each(cases)('%s', async (_name, fn, expected) => {
    let error: unknown;
    try {
      await fn();
    } catch (e) {
      error = e;
    }
    expect(isKamalDevError(error)).toBe(true);
    const known = error as KamalDevError;
    expect(known.message).toMatch(expected.message);
    expect(known.exitCode).toBe(2);
    if (expected.file) expect(known.file).toMatch(typeof expected.file === 'string' ? new RegExp(`^${expected.file.replace(/[.[\]]/g, '\\$&')}$`) : expected.file);
    expect(known.key).toBe(expected.key);
    let printed = '';
    reportError(known, {}, { stderr: { write: (s: string) => ((printed += s), true) } as unknown as NodeJS.WritableStream });
    expect(printed).toMatch(/^error: /);
    expect(printed).not.toMatch(/\n\s+at /);
  });
});
