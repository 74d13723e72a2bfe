import { ApplicationFailure } from '@temporalio/common';
import { toActivityFailure } from '../../src/activities/failures';
import { composeFailure } from '../../src/remote/pullAndUp';
import { CommandFailedError } from '../../src/docker/runner';
import { configError, KamalDevError } from '../../src/errors';
import { ImageError } from '../../src/images/errors';
import { UpcloudApiError } from '../../src/providers/upcloud-api';

const mapped = (error: unknown, fallback?: string) => toActivityFailure(error, fallback) as ApplicationFailure;

describe('toActivityFailure: the one mapping of retry classes to Temporal', () => {
  it('makes bad input non-retryable with its stable type, location and description', () => {
    const failure = mapped(new ImageError('RegistryAuthFailed', 'registry', 'refused', { retry: 'bad-input', description: 'check it' }));
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'RegistryAuthFailed', nonRetryable: true, message: 'refused' });
    expect(failure.details).toEqual([{ kind: 'registry', retry: 'bad-input', description: 'check it', file: undefined, key: undefined }]);
    expect(mapped(configError('bad', { file: 'config/dev.yml', key: 'vms.count' }))).toMatchObject({
      type: 'ConfigInvalid',
      nonRetryable: true,
      message: 'config/dev.yml: vms.count: bad',
    });
  });

  it('lets Temporal retry a transient KamalDevError with backoff, whatever its kind', () => {
    expect(mapped(new ImageError('RegistryUnavailable', 'registry', 'down', { retry: 'transient' }))).toMatchObject({ type: 'RegistryUnavailable', nonRetryable: false });
    const outage = new UpcloudApiError('UpCloud API DELETE /server/u: HTTP 503', 503, undefined, { retry: 'transient' });
    expect(mapped(outage, 'ProviderError')).toMatchObject({ type: 'ProviderError', nonRetryable: false });
    const stopTimeout = new KamalDevError('provider', 'was not stopped after 300 s', { retry: 'transient' });
    expect(mapped(stopTimeout, 'ProviderError')).toMatchObject({ nonRetryable: false });
  });

  it('keeps final failures final, typed by the error or else by the step', () => {
    expect(mapped(new KamalDevError('compose', 'db (exited)', { type: 'StackUnhealthy' }), 'ProviderError')).toMatchObject({ type: 'StackUnhealthy', nonRetryable: true });
    expect(mapped(new KamalDevError('provider', 'no such plan'), 'ProviderError')).toMatchObject({ type: 'ProviderError', nonRetryable: true });
    expect(mapped(new KamalDevError('prerequisite', 'no docker'))).toMatchObject({ type: 'PrerequisiteMissing', nonRetryable: true });
    const refused = new UpcloudApiError('UpCloud rejected the API credentials', 401, undefined, { retry: 'bad-input' });
    expect(mapped(refused)).toMatchObject({ nonRetryable: true, details: [{ retry: 'bad-input' }] });
  });

  it('passes anything else through, to be retried as it is', () => {
    const plain = new Error('ECONNRESET');
    expect(toActivityFailure(plain)).toBe(plain);
    expect(toActivityFailure('odd')).toMatchObject({ message: 'odd' });
  });
});

describe('KamalDevError retry class', () => {
  it('is bad input (exit 2) for config, final (exit 1) otherwise, unless the thrower says', () => {
    expect(configError('x', {})).toMatchObject({ retry: 'bad-input', exitCode: 2, retryable: false });
    expect(new KamalDevError('ssh', 'x')).toMatchObject({ retry: 'final', exitCode: 1, retryable: false });
    expect(new KamalDevError('registry', 'x', { retry: 'transient' })).toMatchObject({ exitCode: 1, retryable: true });
    expect(new KamalDevError('registry', 'x', { retry: 'bad-input' })).toMatchObject({ exitCode: 2 });
  });
});

const upArgv = ['docker', 'compose', '-p', 'shop', '-f', '/opt/kamal-dev/shop/compose.yaml', 'up', '-d'];
const pullArgv = ['docker', 'compose', '-p', 'shop', '-f', '/opt/kamal-dev/shop/compose.yaml', 'pull'];

describe('composeFailure', () => {
  it('keeps an unrecognised failure retryable, with what Compose said on which VM', () => {
    const stderr = [
      ' Container shop-db-1  Healthy',
      ' Container shop-app-1  Starting',
      'Error response from daemon: driver failed programming external connectivity on endpoint shop-app-1: Error starting userland proxy: listen tcp4 127.0.0.1:3000: bind: address already in use',
    ].join('\n');
    const failure = mapped(composeFailure(new CommandFailedError(upArgv, 1, '', stderr), 'shop-2'));
    expect(failure).toMatchObject({ type: 'ComposeFailed', nonRetryable: false });
    expect(failure.message).toBe(
      'docker compose up failed on shop-2: Error response from daemon: driver failed programming external connectivity on endpoint shop-app-1: Error starting userland proxy: listen tcp4 127.0.0.1:3000: bind: address already in use',
    );
  });

  it('retries a pull the registry answered with 5xx, and makes a missing image or refused login bad input', () => {
    const fiveHundred = 'Error response from daemon: received unexpected HTTP status: 503 Service Unavailable';
    expect(mapped(composeFailure(new CommandFailedError(pullArgv, 1, '', fiveHundred), 'shop-1'))).toMatchObject({ nonRetryable: false });
    const missing = composeFailure(new CommandFailedError(pullArgv, 1, '', 'Error response from daemon: manifest for localhost:5555/x:1 not found: manifest unknown'), 'shop-1');
    expect(missing).toMatchObject({ type: 'ImageNotFound', exitCode: 2 });
    expect(mapped(missing)).toMatchObject({ type: 'ImageNotFound', nonRetryable: true });
    const refused = composeFailure(new CommandFailedError(pullArgv, 1, '', 'Error response from daemon: unauthorized: authentication required'), 'shop-1');
    expect(refused).toMatchObject({ type: 'RegistryAuth', exitCode: 2 });
  });

  it('makes a container up blamed final, naming it with its last log lines in the message', () => {
    const stderr = [' Container shop-db-1  Waiting', ' Container shop-db-1  Error', 'dependency failed to start: container shop-db-1 is unhealthy'].join('\n');
    const failure = composeFailure(new CommandFailedError(upArgv, 1, '', stderr), 'shop-2', { 'shop-db-1': ['FATAL:  password authentication failed', 'database system is shut down'] });
    expect(failure).toMatchObject({ type: 'StackUnhealthy', retry: 'final', exitCode: 1 });
    expect(mapped(failure)).toMatchObject({ type: 'StackUnhealthy', nonRetryable: true });
    expect((failure as Error).message).toBe(
      [
        'docker compose up failed on shop-2: dependency failed to start: container shop-db-1 is unhealthy',
        'last log lines of shop-db-1:',
        '  FATAL:  password authentication failed',
        '  database system is shut down',
      ].join('\n'),
    );
    expect((failure as KamalDevError).description).toMatch(/shop-db-1 did not come up .*start_period or retries/);
    const exited = composeFailure(new CommandFailedError(upArgv, 1, '', 'container shop-migrate-1 exited (1)'), 'shop-1');
    expect(exited).toMatchObject({ type: 'StackUnhealthy', retry: 'final', message: 'docker compose up failed on shop-1: container shop-migrate-1 exited (1)' });
  });

  it('passes errors that are not a failed command through', () => {
    const error = new Error('Connection lost');
    expect(composeFailure(error, 'shop-1')).toBe(error);
  });
});
