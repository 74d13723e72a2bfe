import { ApplicationFailure } from '@temporalio/common';
import { composeFailure } from '../../src/activities/pullAndUp';
import { failedContainers } from '../../src/docker/compose';
import { CommandFailedError } from '../../src/docker/runner';

const upArgv = ['docker', 'compose', '-p', 'shop', '-f', '/opt/kamal-dev/shop/compose.yaml', 'up', '-d'];

describe('composeFailure', () => {
  it('keeps an unrecognised failure retryable, with what Compose said on which VM', () => {
    const stderr = [
      ' Container shop-db-1  Healthy',
      ' Container shop-app-1  Starting',
      'Error response from daemon: driver failed programming external connectivity on endpoint shop-app-1: Error starting userland proxy: listen tcp4 127.0.0.1:3000: bind: address already in use',
    ].join('\n');
    const failure = composeFailure(new CommandFailedError(upArgv, 1, '', stderr), 'shop-2') as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'ComposeFailed', nonRetryable: false });
    expect(failure.message).toBe(
      'docker compose up failed on shop-2: Error response from daemon: driver failed programming external connectivity on endpoint shop-app-1: Error starting userland proxy: listen tcp4 127.0.0.1:3000: bind: address already in use',
    );
  });

  it('names the container up blamed and shows its last log lines', () => {
    const stderr = [' Container shop-db-1  Waiting', 'dependency failed to start: container shop-db-1 is unhealthy'].join('\n');
    expect(failedContainers(stderr)).toEqual(['shop-db-1']);
    expect(failedContainers('container shop-app-1 exited (3)\ncontainer shop-app-1 exited (3)')).toEqual(['shop-app-1']);
    const failure = composeFailure(new CommandFailedError(upArgv, 1, '', stderr), 'shop-1', { 'shop-db-1': ['FATAL:  data directory has wrong ownership'] }) as ApplicationFailure;
    expect(failure.message).toBe('docker compose up failed on shop-1: dependency failed to start: container shop-db-1 is unhealthy');
    expect((failure.details?.[0] as { description: string }).description).toMatch(/last log lines of shop-db-1:\n  FATAL:  data directory has wrong ownership$/);
  });

  it('passes errors that are not a failed command through', () => {
    const error = new Error('Connection lost');
    expect(composeFailure(error, 'shop-1')).toBe(error);
  });
});
