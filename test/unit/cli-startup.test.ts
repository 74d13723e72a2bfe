import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const MARK = 'loaded modules:';
/** What only the commands that talk to Temporal, VMs or Docker need; a command that does not must not pay for loading them. */
const HEAVY = ['@temporalio/client', '@temporalio/worker', '@grpc/grpc-js', 'ssh2', 'dockerode', 'zod', 'yaml'];

/** The modules one CLI run loaded, from require.cache of a fresh Node process (the sources, through ts-node). */
function modulesLoadedBy(args: string[]): string[] {
  const script = `
    const { main } = require('./src/cli/main');
    main(['node', 'kamal-dev', ...${JSON.stringify(args)}], { stdout: { write: () => true } }).then(() => {
      process.stdout.write('\\n${MARK}' + JSON.stringify(Object.keys(require.cache)) + '\\n');
    });`;
  const output = execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(output.slice(output.lastIndexOf(MARK) + MARK.length)) as string[];
}

const heavyIn = (modules: string[]) => HEAVY.filter((name) => modules.some((path) => path.includes(`/node_modules/${name}/`)));

describe('the CLI loads what a command needs, when it runs', () => {
  test.each([[['--help']], [['--version']], [['deploy', '--help']]])('kamal-dev %j loads none of the heavy modules', (args) => {
    expect(heavyIn(modulesLoadedBy(args))).toEqual([]);
  });

  test("a command's action loads its own module and what it needs, and no more", () => {
    const modules = modulesLoadedBy(['schema']);
    expect(modules.some((path) => path.endsWith(join('src', 'cli', 'commands', 'schema.ts')))).toBe(true);
    expect(heavyIn(modules)).toEqual(['zod']);
  });
});
