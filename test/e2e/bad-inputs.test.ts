import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeWithLab } from '../support/lab';
import { kamalDev } from '../support/kamal-dev';

const DC = '.devcontainer/devcontainer.json';
const COMPOSE = '.devcontainer/compose.yaml';
const CONFIG = 'config/dev.yml';
const SECRETS = '.kamal/secrets';

/** A valid compose devcontainer; each case replaces or adds files to break it in one place. */
const VALID: Record<string, string> = {
  [DC]: '{ "dockerComposeFile": "compose.yaml", "service": "app", "workspaceFolder": "/workspaces/p" }',
  [COMPOSE]: 'services:\n  app:\n    build: { context: .., dockerfile: .devcontainer/Dockerfile }\n  db:\n    image: postgres:16\n',
  '.devcontainer/Dockerfile': 'FROM debian:bookworm-slim\n',
};

type Case = [name: string, files: Record<string, string | null>, expected: RegExp];

const cases: Case[] = [
  // config/dev.yml
  ['broken YAML', { [CONFIG]: 'service: [\n' }, /config\/dev\.yml: .*invalid YAML at line \d+/],
  ['unknown key', { [CONFIG]: 'servce: x\n' }, /config\/dev\.yml: servce: unknown key/],
  ['count is a word', { [CONFIG]: 'vms: {count: three}\n' }, /config\/dev\.yml: vms\.count: expected a number/],
  ['count is zero', { [CONFIG]: 'vms: {count: 0}\n' }, /config\/dev\.yml: vms\.count: .*at least 1/],
  ['service with spaces', { [CONFIG]: 'service: My App\n' }, /config\/dev\.yml: service: /],
  ['unknown provider', { [CONFIG]: 'provider: {type: aws}\n' }, /config\/dev\.yml: provider\.type: expected one of/],
  ['ssh provider without hosts', { [CONFIG]: 'provider: {type: ssh}\n' }, /config\/dev\.yml: provider\.hosts: is required/],
  ['upcloud without zone', { [CONFIG]: 'provider: {type: upcloud, plan: 1xCPU-1GB}\n' }, /config\/dev\.yml: provider\.zone: is required/],
  ['registry as a string', { [CONFIG]: 'registry: ghcr.io\n' }, /config\/dev\.yml: registry: expected a mapping/],
  ['registry secret name invalid', { [CONFIG]: 'registry: {password_env: bad-name}\n' }, /config\/dev\.yml: registry\.password_env: /],
  ['naming without index', { [CONFIG]: 'naming: "{service}"\n' }, /config\/dev\.yml: naming: must contain \{index\}/],
  ['on_failure unknown', { [CONFIG]: 'on_failure: maybe\n' }, /config\/dev\.yml: on_failure: expected one of/],
  ['build args as a list', { [CONFIG]: 'build: {args: [a]}\n' }, /config\/dev\.yml: build\.args: expected a mapping/],
  ['temporal address without port', { [CONFIG]: 'temporal: {address: localhost}\n' }, /config\/dev\.yml: temporal\.address: /],
  ['ssh port out of range', { [CONFIG]: 'ssh: {port: 70000}\n' }, /config\/dev\.yml: ssh\.port: /],
  ['remote registry without namespace', { [CONFIG]: 'registry: {server: registry.example.com}\n' }, /config\/dev\.yml: registry\.namespace/],
  // .kamal/secrets
  ['secrets line without =', { [SECRETS]: 'JUST_A_WORD\n' }, /\.kamal\/secrets: /],
  ['secrets unterminated quote', { [SECRETS]: 'A="open\n' }, /\.kamal\/secrets: /],
  ['secrets invalid name', { [SECRETS]: '1BAD=x\n' }, /\.kamal\/secrets: /],
  // devcontainer.json
  ['broken JSONC', { [DC]: '{ "service": "app", ' }, /devcontainer\.json: .*line \d+, column \d+/],
  ['devcontainer is a list', { [DC]: '[]' }, /devcontainer\.json: /],
  ['no image, build or compose', { [DC]: '{ "name": "x" }' }, /devcontainer\.json: .*image.*dockerComposeFile/],
  ['compose without service', { [DC]: '{ "dockerComposeFile": "compose.yaml" }' }, /devcontainer\.json: service: /],
  ['service not in compose', { [DC]: '{ "dockerComposeFile": "compose.yaml", "service": "web" }' }, /devcontainer\.json: service: .*"web"/],
  ['compose file missing', { [DC]: '{ "dockerComposeFile": "nope.yaml", "service": "app" }' }, /nope\.yaml/],
  ['Dockerfile missing (build kind)', { [DC]: '{ "build": { "dockerfile": "Missing" } }' }, /devcontainer\.json: build\.dockerfile: /],
  ['forwardPorts not a list', { [DC]: '{ "image": "debian", "forwardPorts": 3000 }' }, /devcontainer\.json: forwardPorts: /],
  ['no devcontainer at all', { [DC]: null }, /no devcontainer\.json found/],
  // compose files
  ['compose YAML broken', { [COMPOSE]: 'services:\n  app: [\n' }, /compose\.yaml/],
  ['compose build context missing', { [COMPOSE]: 'services:\n  app:\n    build: ./nowhere\n' }, /compose\.yaml: services\.app\.build\.context: /],
  ['compose Dockerfile missing', { [COMPOSE]: 'services:\n  app:\n    build: { context: .., dockerfile: Nope }\n' }, /services\.app\.build\.dockerfile: .*Nope/],
  ['compose inline Dockerfile', { [COMPOSE]: 'services:\n  app:\n    build: { context: .., dockerfile_inline: "FROM x" }\n' }, /services\.app\.build\.dockerfile_inline: /],
  ['compose build secret undefined', { [COMPOSE]: 'services:\n  app:\n    build: { context: .., dockerfile: .devcontainer/Dockerfile, secrets: [nope] }\n' }, /nope/],
  ['compose services not a mapping', { [COMPOSE]: 'services: [a]\n' }, /compose\.yaml/],
];

const dirs: string[] = [];
function project(files: Record<string, string | null>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-bad-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries({ ...VALID, ...files })) {
    if (content === null) continue;
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Nothing listens there: a case that got past the checks could reach no Temporal server. */
const NO_TEMPORAL = { TEMPORAL_ADDRESS: '127.0.0.1:1' };

// The plan check reads the compose files through `docker compose config`, so the engine's CLI must be there.
describeWithLab(['docker'], 'malformed inputs through the CLI binary', () => {
  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));

  it.each(cases)('%s: deploy exits 2 at once, one readable error naming file and key, no stack trace', async (_name, files, expected) => {
    const result = await kamalDev(['deploy', '--count', '1'], { cwd: project(files), env: NO_TEMPORAL, timeoutMs: 30_000 });
    expect(result.stderr).toMatch(/^error: /);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(2);
  });

  it('deploy to a Temporal server that does not answer: a clear error, exit 1, and the command ends', async () => {
    const result = await kamalDev(['deploy', '--count', '1'], { cwd: project({}), env: NO_TEMPORAL, timeoutMs: 30_000 });
    expect(result.stderr).toBe('error: cannot reach the Temporal server at 127.0.0.1:1\n  Check temporal.address (or TEMPORAL_ADDRESS), TLS and the API key.\n');
    expect(result.code).toBe(1);
  }, 40_000);
});
