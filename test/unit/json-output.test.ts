import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProgram, main } from '../../src/cli/main';
import { expectJson, JSON_SHAPES, type JsonCommand } from '../support/json-shapes';
import { cleanupProjects, IMAGE_DEVCONTAINER, tempProject } from '../support/project';

afterAll(cleanupProjects);

/** The CLI in-process with stdout and stderr captured whole: anything written past the printer shows up too. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((c) => ((stdout += String(c)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((c) => ((stderr += String(c)), true));
  try {
    return { code: await main(['node', 'kamal-dev', ...args], { env: { TEMPORAL_ADDRESS: '127.0.0.1:1' } }), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('--json: one document of the documented shape, on success', () => {
  const successes: [JsonCommand, (dir: string) => string[]][] = [
    ['init', () => []],
    ['plan', () => ['--count', '2']],
    ['schema', () => []],
    ['server status', () => []],
    ['server stop', () => []],
  ];
  it.each(successes)('%s', async (command, extra) => {
    const dir = tempProject(IMAGE_DEVCONTAINER);
    const result = await cli(['-C', dir, '--json', ...command.split(' '), ...extra(dir)]);
    expect(result.code).toBe(0);
    expect(expectJson(command, result.stdout).outcome).toBe('ok');
  });
});

describe('--json: the error document on a bad input, exit 2, before any server is asked', () => {
  // An empty folder: no devcontainer.json, so every command that needs the project stops at its plan.
  const cases: [command: string, args: string[], expected: RegExp][] = [
    ['init', ['init'], /config\/dev\.yml: already exists/],
    ['plan', ['plan', '--count', '0'], /--count: expected a whole number from 1 to 100, got "0"/],
    ['build', ['build'], /no devcontainer\.json found/],
    ['push', ['push'], /no devcontainer\.json found/],
    ['deploy', ['deploy', '--count', '101'], /--count: expected a whole number from 1 to 100, got "101"/],
    ['deploy --attach', ['deploy', '--attach'], /no devcontainer\.json found/],
    ['deploy --from', ['deploy', '--from', 'elsewhere/devcontainer.json'], /^elsewhere\/devcontainer\.json: devcontainer\.json not found/],
    ['deploys', ['deploys', '--limit', 'all'], /--limit: expected a whole number from 1 to 100, got "all"/],
    ['list', ['list'], /no devcontainer\.json found/],
    ['status', ['status'], /no devcontainer\.json found/],
    ['stop', ['stop'], /name the VMs to stop, or pass --all/],
    ['start', ['start'], /name the VMs to start, or pass --all/],
    ['remove', ['remove'], /name the VMs to remove, or pass --all/],
    ['cancel', ['cancel'], /no devcontainer\.json found/],
    ['server', ['server', 'restart'], /unknown command 'restart'/],
    ['schema', ['schema', 'extra'], /too many arguments/],
    ['ssh', ['ssh', 'vm-1'], /no devcontainer\.json found/],
    ['exec', ['exec', 'vm-1', '--', 'true'], /no devcontainer\.json found/],
    ['ssh-config', ['ssh-config', '--all'], /no devcontainer\.json found/],
    ['adopt', ['adopt', 'vm-1'], /no devcontainer\.json found/],
    ['forward', ['forward'], /name a VM, or forward every VM with --all/],
    ['worker', ['worker', 'extra'], /too many arguments/],
    ['logs', ['logs', 'vm-1', '--tail', '0'], /--tail: expected a whole number from 1 to 10000, got "0"/],
    ['an unknown flag', ['deploy', '--no-such-flag'], /unknown option '--no-such-flag'/],
  ];
  it.each(cases)('%s', async (_name, args, expected) => {
    const dir = tempProject(args[0] === 'init' ? { 'config/dev.yml': 'service: x\n' } : {});
    const result = await cli(['-C', dir, '--json', ...args]);
    const document = expectJson('error', result.stdout);
    expect(document).toMatchObject({ outcome: 'error', kind: 'config' });
    expect(document.message).toMatch(expected);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('has a case for every command', () => {
    expect(buildProgram().commands.map((command) => command.name()).filter((name) => !cases.some(([, args]) => args[0] === name))).toEqual([]);
  });

  it('names file and key as fields, not only in the message', async () => {
    const result = await cli(['--json', 'plan', '--count', 'x']);
    expect(JSON.parse(result.stdout)).toMatchObject({ key: '--count', message: '--count: expected a whole number from 1 to 100, got "x"' });
  });
});

describe('every command', () => {
  // These print the remote's or the worker's own output (docs/json.md); only their errors are documents.
  const passthrough = ['ssh', 'exec', 'logs', 'worker'];
  const names = buildProgram().commands.flatMap((command) => (command.commands.length ? command.commands.map((sub) => `${command.name()} ${sub.name()}`) : [command.name()]));

  it.each(names.filter((name) => !passthrough.includes(name)))('%s has a documented --json shape', (name) => {
    expect(Object.keys(JSON_SHAPES)).toContain(name);
  });
});

describe('docs/json.md', () => {
  const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'json.md'), 'utf8');
  const sections = new Map(
    docs
      .split(/^## /m)
      .slice(1)
      .map((section) => [section.split('\n')[0].replace(/`/g, '').replace(/^kamal-dev /, '').trim(), section] as const),
  );

  it.each(Object.keys(JSON_SHAPES) as JsonCommand[])('documents %s with every top-level key', (command) => {
    const section = sections.get(command);
    expect(section).toBeDefined();
    const shape = JSON_SHAPES[command];
    const options = 'options' in shape ? shape.options : [shape];
    for (const option of options) for (const key of Object.keys(option.shape)) expect(section).toMatch(new RegExp(`[\`"]${key}[\`"]`));
  });
});
