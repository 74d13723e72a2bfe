import { describeCleanup } from '../../src/client/cleanup';
import { lockWorkflowId } from '../../src/workflows/names';
import { embeddedServerArgv } from '../../src/client/embedded';
import { sourceTaskQueue } from '../../src/client/queues';
import { connectOptions, temporalSettings } from '../../src/client/settings';
import { deployWorkflowId, webUiLink } from '../../src/client/deploy';
import { renderProgress } from '../../src/cli/progress';
import { summaryTable } from '../../src/cli/summaryTable';

describe('temporal settings', () => {
  it('defaults to the embedded server, namespace default and the shared queue kamal-dev', () => {
    expect(temporalSettings({}, {})).toEqual({
      address: undefined,
      namespace: 'default',
      tls: undefined,
      apiKeyEnv: 'TEMPORAL_API_KEY',
      sharedQueue: 'kamal-dev',
      uiUrl: 'http://127.0.0.1:8233',
      profiles: undefined,
    });
    expect(connectOptions(temporalSettings({}, {}), {})).toEqual({ address: '127.0.0.1:7233' });
  });

  it('takes the environment over config, with the temporal CLI variable names', () => {
    const s = temporalSettings({ address: 'temporal.internal:7233', namespace: 'dev' }, { TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'x.acct' });
    expect([s.address, s.namespace]).toEqual(['x.tmprl.cloud:7233', 'x.acct']);
  });

  it('reads the API key from the variable config names, and turns TLS on for it', () => {
    const s = temporalSettings({ address: 'x.tmprl.cloud:7233', apiKeyEnv: 'MY_KEY' }, {});
    expect(connectOptions(s, { MY_KEY: 'k-123' })).toEqual({ address: 'x.tmprl.cloud:7233', tls: true, apiKey: 'k-123' });
  });

  it('rejects a certificate without its key', () => {
    expect(() => temporalSettings({ tlsCert: '/c.pem' }, {})).toThrow(/needs its key/);
  });

  it('says which file it cannot read', () => {
    const s = temporalSettings({ tlsCert: '/nope/c.pem', tlsKey: '/nope/k.pem' }, {});
    expect(() => connectOptions(s, {})).toThrow('cannot read /nope/c.pem');
  });
});

describe('embedded server argv', () => {
  it('starts the dev server on loopback with SQLite and the search attributes', () => {
    expect(embeddedServerArgv('/p/.kamal/temporal/temporal.db')).toEqual([
      'server', 'start-dev', '--ip', '127.0.0.1', '--port', '7233', '--ui-port', '8233',
      '--db-filename', '/p/.kamal/temporal/temporal.db', '--log-level', 'warn',
      '--search-attribute', 'KamalDevService=Keyword', '--search-attribute', 'KamalDevPhase=Keyword', '--search-attribute', 'KamalDevProject=Keyword',
    ]);
  });
});

describe('names and links', () => {
  it('binds the source queue to host and project folder', () => {
    expect(sourceTaskQueue('/src/app', 'laptop')).toMatch(/^kamal-dev-source-[0-9a-f]{12}$/);
    expect(sourceTaskQueue('/src/app', 'laptop')).toBe(sourceTaskQueue('/src/app/', 'laptop'));
    expect(sourceTaskQueue('/src/app', 'laptop')).not.toBe(sourceTaskQueue('/src/app', 'ci'));
  });

  it('names deploys after the project folder and time', () => {
    expect(deployWorkflowId('/src/My App', new Date('2026-01-02T03:04:05.678Z'))).toMatch(/^deploy-my-app-20260102T030405-[0-9a-f]{4}$/);
  });

  it('links the Web UI page of a workflow', () => {
    expect(webUiLink('deploy-a/vm/b')).toBe('http://127.0.0.1:8233/namespaces/default/workflows/deploy-a%2Fvm%2Fb');
  });
});

describe('progress rendering', () => {
  it('shows the deploy steps and one line per VM with its current step and attempt', () => {
    const lines = renderProgress({
      workflowId: 'deploy-x',
      service: 'app',
      tag: 'abc',
      phase: 'vms',
      steps: [
        { name: 'planDeploy', state: 'done', message: 'app:abc, 2 VM(s)' },
        { name: 'pushImages', state: 'skipped' },
      ],
      vms: [
        { name: 'app-1', workflowId: 'w/vm/app-1', state: 'running', steps: [{ name: 'provisionVm', state: 'done' }, { name: 'waitForSsh', state: 'running', attempt: 3, message: 'retrying: ECONNREFUSED' }] },
        { name: 'app-2', workflowId: 'w/vm/app-2', state: 'failed', steps: [], error: 'unhealthy' },
      ],
    });
    expect(lines).toEqual([
      'deploy-x  vms  app:abc',
      '  ✔ planDeploy  app:abc, 2 VM(s)',
      '  - pushImages',
      '  app-1            running 1/2  … waitForSsh (attempt 3)  retrying: ECONNREFUSED',
      '  app-2            failed  unhealthy',
    ]);
  });

  it('tables every container of every VM', () => {
    const table = summaryTable({
      workflowId: 'w', service: 'app', tag: 't', outcome: 'partial', images: [], pushed: [],
      vms: [
        {
          name: 'app-1', workflowId: 'w/vm/app-1', state: 'deployed', steps: [],
          vm: { deployment: 'app', name: 'app-1', index: 0, id: 'c1', provider: 'docker', ssh: { host: '127.0.0.1', port: 2201, user: 'root' }, ip: '127.0.0.1' },
          containers: [
            { service: 'app', name: 'app-app-1', state: 'running', health: 'healthy', ports: ['3000'] },
            { service: 'db', name: 'app-db-1', state: 'running', ports: [] },
          ],
        },
        { name: 'app-2', workflowId: 'w/vm/app-2', state: 'failed', steps: [], error: 'unhealthy' },
      ],
    });
    expect(table).toMatch(/app-1.*deployed.*root@127\.0\.0\.1:2201.*app-app-1.*running.*healthy.*3000/);
    expect(table).toMatch(/app-1.*app-db-1/);
    expect(table).toMatch(/app-2.*failed.*unhealthy/);
  });
});

describe('activity profiles', () => {
  it("apply a deploy's overrides over the named profile, with no type list: errors decide their retry class", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { profile } = require('../../src/workflows/policies') as typeof import('../../src/workflows/policies');
    const long = profile('long', { long: { startToCloseTimeout: '5s', maximumAttempts: 1 } }, 'src-q');
    expect(long).toMatchObject({ startToCloseTimeout: '5s', heartbeatTimeout: '30s', taskQueue: 'src-q', retry: { maximumAttempts: 1, initialInterval: '1s' } });
    expect(long.retry).not.toHaveProperty('nonRetryableErrorTypes');
    expect(profile('quick')).not.toHaveProperty('heartbeatTimeout');
  });

  it('notice a killed worker within a minute on every step that can run longer than that', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { profile } = require('../../src/workflows/policies') as typeof import('../../src/workflows/policies');
    for (const name of ['long', 'provision', 'verify', 'compensation'] as const) expect(profile(name)).toMatchObject({ heartbeatTimeout: '30s' });
    expect(profile('compensation').retry?.maximumAttempts).toBe(10);
  });
});

describe('what a cancel says it left', () => {
  it('names the removed and the kept VMs, and those deployed before the cancel arrived', () => {
    expect(describeCleanup({ removed: ['a-1', 'a-2'], kept: ['a-3'], deployed: [] })).toBe('removed a-1, a-2 (created by this run); kept a-3');
    expect(describeCleanup({ removed: [], kept: [], deployed: ['a-1'] })).toBe('removed no VM; kept no VM; a-1 deployed before the cancel arrived');
  });

  it('keeps the lock per project identity', () => {
    expect(lockWorkflowId('0123abcd')).toBe('kamal-dev-lock/0123abcd');
  });
});
