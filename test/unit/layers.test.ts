import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The layers of ARCHITECTURE.md, read from the sources: which folder of src/ imports which.
const SRC = resolve(__dirname, '../../src');

interface Import {
  file: string;
  /** The folder of src/ it reaches (activities, remote, ...), or the file for one at the top (errors.ts). */
  layer: string;
  typeOnly: boolean;
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']*)'|import\(\s*'(\.[^']*)'\s*\)/g;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => {
    const target = relative(SRC, resolve(dirname(file), m[3] ?? m[4]));
    return { file: relative(SRC, file), layer: target.split('/')[0], typeOnly: !!m[2] };
  });
}

const allImports = sourcesUnder(SRC).flatMap(importsOf);
const importsIn = (layer: string) => allImports.filter((i) => i.file.split('/')[0] === layer);

describe('layers', () => {
  it('reads the imports it checks', () => {
    expect(importsIn('remote').some((i) => i.layer === 'ssh')).toBe(true);
    expect(importsIn('workflows').some((i) => i.layer === 'activities' && i.typeOnly)).toBe(true);
    expect(importsIn('cli').some((i) => i.layer === 'activities' && !i.typeOnly)).toBe(true);
  });

  it.each(['docker', 'images', 'remote', 'spec', 'registry', 'domain', 'ssh', 'providers', 'state', 'errors.ts'])(
    'nothing in src/%s imports from src/activities, src/workflows, src/client or src/cli',
    (layer) => {
      const upward = importsIn(layer).filter((i) => ['activities', 'workflows', 'client', 'cli', 'worker.ts'].includes(i.layer));
      expect(upward).toEqual([]);
    },
  );

  it.each(['remote', 'docker', 'images', 'spec', 'registry', 'ssh', 'providers', 'state'])('src/%s runs without Temporal (heartbeats and failure mapping are the activities\' part)', (layer) => {
    const temporal = sourcesUnder(join(SRC, layer)).filter((file) => /from '@temporalio\//.test(readFileSync(file, 'utf8')));
    expect(temporal.map((file) => relative(SRC, file))).toEqual([]);
  });

  it('domain types import nothing', () => {
    expect(importsIn('domain')).toEqual([]);
  });

  it('workflows import activities as types only', () => {
    expect(importsIn('workflows').filter((i) => i.layer === 'activities' && !i.typeOnly)).toEqual([]);
  });

  it('the client never imports activities; the CLI only to run a worker or its in-process look-ups', () => {
    expect(importsIn('client').filter((i) => i.layer === 'activities')).toEqual([]);
    // deps.ts/session.ts: the worker's Activities type; production.ts: createActivities for `kamal-dev worker`
    // and the embedded worker; workspaces.ts: list/status/ssh/logs call listVms and stackStatus in process.
    const cliFiles = [...new Set(importsIn('cli').filter((i) => i.layer === 'activities').map((i) => i.file))].sort();
    expect(cliFiles).toEqual(['cli/deps.ts', 'cli/production.ts', 'cli/session.ts', 'cli/workspaces.ts']);
  });
});
