import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runInit } from '../../src/cli/commands/init';
import { runPlan } from '../../src/cli/commands/plan';
import { main } from '../../src/cli/main';
import { loadConfig } from '../../src/spec/config';
import { cleanupProjects, IMAGE_DEVCONTAINER, tempProject } from '../support/project';

afterAll(cleanupProjects);

function capture(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  return { stream: { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream, text: () => text };
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c) => ((stdout += String(c)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c) => ((stderr += String(c)), true));
  try {
    return { code: await main(['node', 'kamal-dev', ...args]), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('kamal-dev init', () => {
  it('writes a commented config that loads, detecting the devcontainer, and a mode-600 secrets template', () => {
    const dir = tempProject({ '.devcontainer/devcontainer.json': '{"dockerComposeFile": "c.yml", "service": "web"}', '.devcontainer/c.yml': '' }, 'Shop');
    const out = capture();
    runInit({ projectDir: dir }, out.stream);
    const yaml = readFileSync(join(dir, 'config/dev.yml'), 'utf8');
    expect(yaml).toMatch(/Docker Compose, service "web"/);
    expect(loadConfig(dir, { env: {} })).toMatchObject({ service: 'shop', devcontainer: '.devcontainer/devcontainer.json', vmCount: 1 });
    expect(statSync(join(dir, '.kamal/secrets')).mode & 0o777).toBe(0o600);
    expect(out.text()).toMatch(/wrote config\/dev.yml\nwrote .kamal\/secrets\n/);
  });

  it('never overwrites without --force, and never overwrites .kamal/secrets', () => {
    const dir = tempProject({ 'config/dev.yml': 'service: mine\n', '.kamal/secrets': 'REAL=1\n' });
    expect(() => runInit({ projectDir: dir }, capture().stream)).toThrow(/already exists/);
    expect(readFileSync(join(dir, 'config/dev.yml'), 'utf8')).toBe('service: mine\n');
    const out = capture();
    runInit({ projectDir: dir, force: true }, out.stream);
    expect(readFileSync(join(dir, 'config/dev.yml'), 'utf8')).toMatch(/no devcontainer|# kamal-dev configuration/);
    expect(readFileSync(join(dir, '.kamal/secrets'), 'utf8')).toBe('REAL=1\n');
    expect(out.text()).toMatch(/kept .kamal\/secrets/);
  });

  it('exits 2 through the CLI when config exists, with -C as the project dir', async () => {
    const dir = tempProject({ 'config/dev.yml': 'service: x\n' });
    const result = await cli(['-C', dir, 'init']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: config\/dev.yml: already exists\n/);
  });
});

describe('kamal-dev plan', () => {
  it('prints a readable summary', async () => {
    const dir = tempProject({ ...IMAGE_DEVCONTAINER, 'config/dev.yml': 'service: tool\n' });
    const out = capture();
    await runPlan({ projectDir: dir, tag: 't1', count: 2 }, out.stream);
    expect(out.text()).toMatch(/^Plan for tool \(image devcontainer: .devcontainer\/devcontainer.json\)\n/);
    expect(out.text()).toMatch(/VMs +tool-1, tool-2 \(provider docker, on failure: destroy\)/);
    expect(out.text()).toMatch(/workspace .* -> \/opt\/kamal-dev\/tool\/workspaces\/my-app/);
  });

  it('prints JSON with stable keys through the CLI (--json, --count, --tag, --from)', async () => {
    const dir = tempProject({ 'alt/devcontainer.json': '{"image": "alpine"}' });
    const result = await cli(['-C', dir, 'plan', '--json', '--count', '2', '--tag', 'v1', '--from', 'alt']);
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(Object.keys(json)).toEqual(['outcome', 'kind', 'service', 'composeFiles', 'build', 'image', 'compose', 'sync', 'projectName', 'tag', 'registry', 'secrets', 'lifecycleSecrets', 'storedEnvironment', 'ports', 'vms', 'provider', 'onFailure', 'initializeCommand', 'lifecycle', 'features', 'warnings']);
    expect(json.warnings).toEqual([]);
    expect(json).toMatchObject({ kind: 'image', service: 'my-app', composeFiles: [], build: {}, image: 'alpine', tag: 'v1' });
    expect(json.vms).toHaveLength(2);
  });

  it('warns about every devcontainer.json key it does not apply, in the summary and in --json', async () => {
    const dir = tempProject({ '.devcontainer/devcontainer.json': '{"name": "quiet", "image": "alpine", "runArgs": ["--gpus", "all"], "hostRequirements": {"cpus": 2}}' });
    const out = capture();
    await runPlan({ projectDir: dir, tag: 't1' }, out.stream);
    expect(out.text()).toMatch(/^warning: .devcontainer\/devcontainer.json: runArgs\[0\]: "--gpus all" has no Docker Compose equivalent/m);
    expect(out.text()).toMatch(/^warning: .devcontainer\/devcontainer.json: hostRequirements.cpus: not checked/m);
    expect(out.text()).not.toMatch(/: name: /);
    const result = await cli(['-C', dir, 'plan', '--json', '--tag', 't1']);
    expect(JSON.parse(result.stdout).warnings.map((w: { file: string; key: string }) => `${w.file} ${w.key}`)).toEqual([
      '.devcontainer/devcontainer.json runArgs[0]',
      '.devcontainer/devcontainer.json hostRequirements.cpus',
    ]);
  });

  it('rejects a bad --count as a usage error', async () => {
    const result = await cli(['plan', '--count', 'many']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--count: expected a whole number from 1 to 100, got "many"/);
  });
});

describe('the stored-environment warning', () => {
  const devcontainer = { '.devcontainer/devcontainer.json': '{"image": "alpine", "containerEnv": {"AT": "${localEnv:KAMAL_DEV_TEST_REGION}", "KEY": "${localEnv:KAMAL_DEV_TEST_API_KEY}"}}' };

  it('names the plain variables, not the secret-looking one, before build and plan go on (stderr for build, so --json stays one document)', async () => {
    const dir = tempProject({ ...devcontainer, 'config/dev.yml': 'service: tool\n' });
    process.env.KAMAL_DEV_TEST_REGION = 'eu-north';
    process.env.KAMAL_DEV_TEST_API_KEY = 'not-shown';
    try {
      const warning = /^warning: KAMAL_DEV_TEST_REGION from the environment or .env: not secrets, so their values are stored \(the plan in Temporal history/m;
      const built = await cli(['-C', dir, '--json', 'build', '--tag', 't1']);
      expect(built.code).toBe(0);
      expect(JSON.parse(built.stdout)).toEqual({ outcome: 'ok', images: [] });
      expect(built.stderr).toMatch(warning);
      expect(built.stderr).not.toContain('API_KEY');
      const planned = await cli(['-C', dir, 'plan', '--tag', 't1']);
      expect(planned.stdout).toMatch(warning);
    } finally {
      delete process.env.KAMAL_DEV_TEST_REGION;
      delete process.env.KAMAL_DEV_TEST_API_KEY;
    }
  });
});

describe('kamal-dev schema', () => {
  it('prints the JSON Schema of config/dev.yml', async () => {
    const result = await cli(['schema']);
    expect(JSON.parse(result.stdout)).toMatchObject({ title: 'kamal-dev config/dev.yml', type: 'object' });
  });
});
