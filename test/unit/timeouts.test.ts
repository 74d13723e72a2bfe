import { temporalSettings } from '../../src/client/settings';
import { temporalConfigOf } from '../../src/cli/production';
import { profile } from '../../src/workflows/policies';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

describe('temporal.timeouts from config/dev.yml to the activity options', () => {
  const project = () =>
    tempProject({
      'config/dev.yml': 'temporal:\n  timeouts:\n    long: {heartbeat: 10s}\n    quick: {start_to_close: 20s, maximum_attempts: 7, initial_interval: 200ms}\n',
    });

  it('reaches the client settings as profile overrides', () => {
    const settings = temporalSettings(temporalConfigOf(project()), {});
    expect(settings.profiles).toEqual({
      long: { heartbeatTimeout: '10s' },
      quick: { startToCloseTimeout: '20s', maximumAttempts: 7, initialInterval: '200ms' },
    });
  });

  it('replaces only the fields it names, keeping the rest of each profile', () => {
    const overrides = temporalSettings(temporalConfigOf(project()), {}).profiles;
    expect(profile('long', overrides)).toMatchObject({ startToCloseTimeout: '60m', heartbeatTimeout: '10s', retry: { maximumAttempts: 3, initialInterval: '1s' } });
    expect(profile('quick', overrides)).toMatchObject({ startToCloseTimeout: '20s', retry: { maximumAttempts: 7, initialInterval: '200ms', backoffCoefficient: 2 } });
    expect(profile('ssh', overrides)).toEqual(profile('ssh'));
  });
});
