import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWithLab } from '../support/lab';
import { kamalDev } from '../support/kamal-dev';
import { faultService, labEnv, writeFiles } from '../support/faults';
import { UpcloudFake } from '../support/upcloud-fake';

jest.setTimeout(120_000);

const FIVE_XX = faultService('flt-upc-5xx');
const STUCK = faultService('flt-upc-stuck');

/**
 * The upcloud provider against the local fake of UpCloud's API, through the built CLI. Timeouts come
 * from config/dev.yml `temporal.timeouts`: the provider stops waiting for a server to start shortly
 * before the provision profile's start_to_close, so it can delete the server and say why.
 */
describeWithLab(['docker', 'temporal'], 'fault: UpCloud API errors', () => {
  let fake: UpcloudFake;
  const dirs: string[] = [];

  beforeEach(async () => {
    fake = await UpcloudFake.start();
    // The deploy goes on to SSH after provisioning: to 127.0.0.1:22, where nothing listens.
    fake.publicIp = '127.0.0.1';
  });

  afterEach(() => fake.close());

  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  function project(service: string, timeouts: string): string {
    const dir = mkdtempSync(join(tmpdir(), `kamal-dev-e2e-${service}-`));
    dirs.push(dir);
    writeFiles(dir, {
      '.devcontainer/devcontainer.json': '{"image": "debian:bookworm-slim"}',
      'config/dev.yml': [
        `service: ${service}`,
        `provider: {type: upcloud, zone: de-fra1, plan: 1xCPU-1GB, api_url: "${fake.url}"}`,
        'ssh: {key_path: .kamal/upcloud_key}',
        `temporal:\n  task_queue: ${service}-queue\n  timeouts:\n${timeouts}`,
      ].join('\n'),
      '.kamal/secrets': `UPCLOUD_USERNAME=${fake.username}\nUPCLOUD_PASSWORD=${fake.password}\n`,
    });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, '.kamal', 'upcloud_key')]);
    return dir;
  }

  it('5xx on create: provisioning succeeds on a retry; the deploy, failing later at SSH, deletes the server it made', async () => {
    fake.fail({ status: 503, times: 2, method: 'POST', path: '/server' });
    const dir = project(FIVE_XX, ['    ssh: {start_to_close: 5s, maximum_attempts: 2, initial_interval: 500ms}', '    compensation: {start_to_close: 30s}'].join('\n'));

    const result = await kamalDev(['deploy', '--count', '1'], { cwd: dir, env: labEnv(), timeoutMs: 100_000 });

    expect(fake.requests.filter((r) => r === 'POST /server')).toHaveLength(3);
    // Before posting again, the provider looked for a server an answered-with-5xx create may have made.
    expect(fake.requests.filter((r) => r.startsWith('GET /server?')).length).toBeGreaterThanOrEqual(2);
    expect(fake.requests.some((r) => /^DELETE \/server\/[0-9a-f-]+\?storages=1/.test(r))).toBe(true);
    expect(fake.servers.size).toBe(0);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${FIVE_XX}-1 +failed .*connect ECONNREFUSED 127\\.0\\.0\\.1:22`));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a server that never starts: timeout, a clear error, no server left', async () => {
    fake.neverStart = true;
    const dir = project(STUCK, ['    provision: {start_to_close: 40s, maximum_attempts: 1}', '    compensation: {start_to_close: 30s}'].join('\n'));

    // The provider waits 30 s (40 s less a quarter), then stops and deletes the server: a poll of 5 s.
    const result = await kamalDev(['deploy', '--count', '1'], { cwd: dir, env: labEnv(), timeoutMs: 100_000 });

    expect(fake.requests.filter((r) => r === 'POST /server')).toHaveLength(1);
    expect(fake.servers.size).toBe(0);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`${STUCK}-1 +failed .*UpCloud server ${STUCK}-1 \\([0-9a-f-]+\\) was not started after \\d+ s \\(last state: maintenance\\)`));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
