import { loadConfig } from '../../src/spec/config';
import { devConfigJsonSchema } from '../../src/spec/config-schema';
import { cleanupProjects, tempProject } from '../support/project';

const env = { HOME: '/home/dev' };
const load = (yaml: string) => loadConfig(tempProject({ 'config/dev.yml': yaml }), { env });

afterAll(cleanupProjects);

describe('config/dev.yml', () => {
  it('is optional: every key has a default (local registry, docker provider, root@22 with id_ed25519)', () => {
    const config = loadConfig(tempProject({}), { env });
    expect(config).toEqual({
      file: undefined,
      service: undefined,
      devcontainer: undefined,
      imageName: undefined,
      registry: { server: 'localhost:5555', namespace: 'kamal-dev', local: true },
      build: { args: {}, secrets: [], target: undefined, platform: undefined, cache: undefined },
      provider: { type: 'docker', image: undefined, baseImage: undefined },
      vmCount: undefined,
      ssh: { user: 'root', port: 22, keyPath: '/home/dev/.ssh/id_ed25519', keyPathSetting: '~/.ssh/id_ed25519' },
      naming: '{service}-{index}',
      temporal: { address: undefined, namespace: 'default', taskQueue: 'kamal-dev', tls: undefined, apiKeySecret: undefined },
      onFailure: 'destroy',
      secrets: [],
      composeProfiles: [],
      publicPorts: [],
      workspaceIncludesGit: false,
    });
  });

  it('workspace.include_git: the workspace copy carries .git; a wrong type names the key', () => {
    expect(load('workspace:\n  include_git: true\n').workspaceIncludesGit).toBe(true);
    expect(() => load('workspace:\n  include_git: yes please\n')).toThrow(expect.objectContaining({ key: 'workspace.include_git' }));
  });

  it('reads the Compose profiles to deploy', () => {
    expect(load('compose: {profiles: [mail, tools]}\n').composeProfiles).toEqual(['mail', 'tools']);
  });

  it('treats an empty file like no file', () => {
    expect(load('').registry.local).toBe(true);
  });

  it('reads the canonical forms', () => {
    const config = load(`
service: shop
image: {devcontainer: .devcontainer/other.json}
registry: {server: registry.example.com:5000, namespace: team, username_env: REG_USER, password_env: REG_PASS}
build: {args: {RUBY: 3.3, DEBUG: true}, secrets: [RAILS_MASTER_KEY], target: dev, platform: linux/arm64, cache: true}
vms: {count: 3}
ssh: {user: deploy, port: 2222, key_path: keys/dev}
naming: "dev-{service}-{index}"
temporal: {address: "temporal.example.com:7233", namespace: dev, task_queue: q, tls: true, api_key_env: TEMPORAL_KEY}
on_failure: keep
`);
    expect(config.service).toBe('shop');
    expect(config.devcontainer).toBe('.devcontainer/other.json');
    expect(config.registry).toEqual({ server: 'registry.example.com:5000', namespace: 'team', local: false, usernameSecret: 'REG_USER', passwordSecret: 'REG_PASS' });
    expect(config.build).toEqual({ args: { RUBY: '3.3', DEBUG: 'true' }, secrets: ['RAILS_MASTER_KEY'], target: 'dev', platform: 'linux/arm64', cache: {} });
    expect(config.vmCount).toBe(3);
    expect(config.ssh.keyPath).toMatch(/\/my-app\/keys\/dev$/);
    expect(config.ssh).toMatchObject({ user: 'deploy', port: 2222 });
    expect(config.naming).toBe('dev-{service}-{index}');
    expect(config.temporal).toEqual({ address: 'temporal.example.com:7233', namespace: 'dev', taskQueue: 'q', tls: true, apiKeySecret: 'TEMPORAL_KEY' });
    expect(config.onFailure).toBe('keep');
  });

  it('maps temporal.timeouts to per-profile overrides in the workflows\' terms', () => {
    const config = load(`
temporal:
  timeouts:
    long: {heartbeat: 10s, start_to_close: 30m}
    provision: {start_to_close: 45s, maximum_attempts: 2, initial_interval: 500ms}
`);
    expect(config.temporal.timeouts).toEqual({
      long: { heartbeatTimeout: '10s', startToCloseTimeout: '30m' },
      provision: { startToCloseTimeout: '45s', maximumAttempts: 2, initialInterval: '500ms' },
    });
    expect(load('temporal: {namespace: dev}').temporal.timeouts).toBeUndefined();
  });

  it('accepts image: as a string, a devcontainer path or an image name', () => {
    expect(load('image: .devcontainer/devcontainer.json').devcontainer).toBe('.devcontainer/devcontainer.json');
    expect(load('image: me/app').imageName).toBe('me/app');
  });

  it('defaults a registry section without server to ghcr.io with GITHUB_USER / GITHUB_TOKEN', () => {
    expect(load('registry: {namespace: me}').registry).toEqual({ server: 'ghcr.io', namespace: 'me', local: false, usernameSecret: 'GITHUB_USER', passwordSecret: 'GITHUB_TOKEN' });
  });

  it("accepts Kamal 2's username/password, as a name or a one-element list", () => {
    const config = load('registry: {server: hub.docker.com, username: [DOCKER_USER], password: DOCKER_TOKEN}');
    expect(config.registry).toMatchObject({ server: 'docker.io', usernameSecret: 'DOCKER_USER', passwordSecret: 'DOCKER_TOKEN' });
  });

  it('has default credential names per registry', () => {
    expect(load('registry: {server: docker.io}').registry).toMatchObject({ usernameSecret: 'DOCKER_USERNAME', passwordSecret: 'DOCKER_PASSWORD' });
    expect(load('registry: {server: r.example.com}').registry).toMatchObject({ usernameSecret: 'KAMAL_REGISTRY_USERNAME', passwordSecret: 'KAMAL_REGISTRY_PASSWORD' });
  });

  it('treats localhost:5555 without credentials as the local registry', () => {
    expect(load('registry: {server: localhost:5555}').registry).toEqual({ server: 'localhost:5555', namespace: 'kamal-dev', local: true });
  });

  it('maps provider sections to ProviderConfig', () => {
    expect(load('provider: {type: docker, image: vm:1, base_image: debian:bookworm-slim}').provider).toEqual({ type: 'docker', image: 'vm:1', baseImage: 'debian:bookworm-slim' });
    expect(load('provider: {type: ssh, hosts: [a.example.com, {host: b, port: 2200, user: dev}]}').provider).toEqual({
      type: 'ssh',
      hosts: [{ host: 'a.example.com' }, { host: 'b', port: 2200, user: 'dev' }],
    });
    expect(load('provider: {type: upcloud, zone: de-fra1, plan: 2xCPU-4GB}').provider).toEqual({
      type: 'upcloud',
      zone: 'de-fra1',
      plan: '2xCPU-4GB',
      template: undefined,
      apiUrl: undefined,
      usernameSecret: 'UPCLOUD_USERNAME',
      passwordSecret: 'UPCLOUD_PASSWORD',
    });
  });

  it('uses an explicit config path', () => {
    const dir = tempProject({ 'deploy/dev.yml': 'service: other' });
    expect(loadConfig(dir, { configPath: 'deploy/dev.yml', env }).service).toBe('other');
  });

  it('exports a JSON Schema that lists every top-level key and forbids unknown ones', () => {
    const schema = devConfigJsonSchema() as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties).sort()).toEqual(['build', 'compose', 'image', 'naming', 'on_failure', 'provider', 'public_ports', 'registry', 'secrets', 'service', 'ssh', 'temporal', 'vms', 'workspace']);
    expect(schema.additionalProperties).toBe(false);
  });
});
