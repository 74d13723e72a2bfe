import { main } from '../../src/cli/main';
import { reportError } from '../../src/cli/output';
import { configError } from '../../src/errors';
import { ProgressPrinter, renderProgress } from '../../src/cli/progress';
import type { DeployProgress } from '../../src/workflows/types';

function capture(): { stream: NodeJS.WritableStream; text: () => string } {
  let text = '';
  const stream = { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream;
  return { stream, text: () => text };
}

describe('cli', () => {
  it('exits 2 on a usage error', async () => {
    const spy = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['node', 'kamal-dev', '--no-such-flag'])).toBe(2);
    spy.mockRestore();
  });

  it('prints a config error with file and key, and no stack trace', () => {
    const out = capture();
    const code = reportError(configError('should be a number', { file: 'config/dev.yml', key: 'vms.count', description: 'e.g. count: 3' }), {}, { stderr: out.stream });
    expect(code).toBe(2);
    expect(out.text()).toBe('error: config/dev.yml: vms.count: should be a number\n  e.g. count: 3\n');
  });

  it('prints the stack with --verbose', () => {
    const out = capture();
    reportError(new Error('boom'), { verbose: true }, { stderr: out.stream });
    expect(out.text()).toMatch(/error: boom\n\nError: boom\n\s+at /);
  });
});

describe('renderProgress', () => {
  const startedAt = '2026-01-01T00:00:00.000Z';
  const progress: DeployProgress = {
    workflowId: 'deploy-x',
    phase: 'build',
    steps: [
      { name: 'planDeploy', state: 'done' },
      { name: 'buildImages', state: 'running', live: { phase: 'build', services: { app: { step: '[3/7] RUN bundle install', state: 'running', startedAt } } } },
      { name: 'pushImages', state: 'pending', live: { phase: 'push', images: { 'x/app:1': { layers: 3, done: 1, existing: 0 } } } },
    ],
    vms: [],
  };

  it('shows a running step\'s heartbeat under it; elapsed only where the block is redrawn', () => {
    expect(renderProgress(progress)).toEqual(['deploy-x  build', '  ✔ planDeploy', '  … buildImages', '      app [3/7] RUN bundle install  running', '  · pushImages']);
    expect(renderProgress(progress, new Date('2026-01-01T00:00:12.000Z'))[3]).toBe('      app [3/7] RUN bundle install  running 12s');
    expect(renderProgress({ ...progress, waitingForWorker: true })[0]).toBe('deploy-x  build (waiting for a worker)');
  });

  it('redraws a block on a terminal by its real lines, also when an entry spans several (a VM error with log lines)', () => {
    let written = '';
    const printer = new ProgressPrinter({ isTTY: true, write: (chunk: string) => ((written += chunk), true) } as unknown as NodeJS.WritableStream & { isTTY: boolean });
    printer.update(['deploy-x  vms', '  shop-1  failed  up failed\nlast log lines of shop-db-1:\n  FATAL']);
    written = '';
    printer.update(['deploy-x  failed']);
    expect(written).toBe('\x1b[4A\x1b[Jdeploy-x  failed\n');
  });
});
