import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSecretValues, registryCredentials } from '../../src/images/credentials';
import { ImageError } from '../../src/images/errors';
import { lastBuildPath, readLastBuild, requireLastBuild, writeLastBuild } from '../../src/images/last-build';
import type { DeployPlan } from '../../src/spec/plan';

const secrets: Record<string, string> = { REG_USER: 'me', REG_PASS: 'pa$$ word' };
const resolveSecret = (name: string) => {
  if (!(name in secrets)) throw new Error(`${name} is not set`);
  return secrets[name];
};
const plan = (registry: Partial<DeployPlan['registry']> = {}) =>
  ({
    projectDir: '/p',
    secretsFile: '/p/.kamal/secrets',
    registry: { server: 'registry.example.com', namespace: 'acme', local: false, usernameSecret: 'REG_USER', passwordSecret: 'REG_PASS', ...registry },
  }) as DeployPlan;

describe('registryCredentials', () => {
  it('resolves both names', () => {
    expect(registryCredentials(plan(), resolveSecret)).toEqual({ username: 'me', password: 'pa$$ word' });
  });

  it('needs none for the local registry', () => {
    expect(registryCredentials(plan({ local: true, usernameSecret: undefined, passwordSecret: undefined }), resolveSecret)).toBeUndefined();
  });

  it('names the missing variable and the secrets file', () => {
    const error = (() => {
      try {
        registryCredentials(plan({ passwordSecret: 'GITHUB_TOKEN' }), resolveSecret);
      } catch (e) {
        return e as ImageError;
      }
    })()!;
    expect(error).toMatchObject({ type: 'RegistryCredentialsMissing', kind: 'config', file: '/p/.kamal/secrets' });
    expect(error.message).toBe('GITHUB_TOKEN is not set (the password for registry registry.example.com)');
    expect(error.description).toContain('/p/.kamal/secrets');
  });

  it('names a missing build secret', () => {
    const build = { service: 'app', secrets: ['NPM_TOKEN'] } as DeployPlan['builds'][number];
    expect(() => buildSecretValues(plan(), build, resolveSecret)).toThrow('NPM_TOKEN is not set (build secret NPM_TOKEN of service app)');
  });
});

describe('last build record', () => {
  it('round-trips and refuses a tag that was not built', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-last-build-'));
    expect(readLastBuild(dir)).toBeUndefined();
    expect(() => requireLastBuild(dir)).toThrow('nothing has been built in this project yet');
    const record = { buildId: 'b1', tag: 't1', builtAt: '2026-01-01T00:00:00Z', images: [{ service: 'app', image: 'x/app:t1', imageId: 'sha256:1' }] };
    writeLastBuild(dir, record);
    expect(lastBuildPath(dir)).toBe(join(dir, '.kamal', 'last_build.json'));
    expect(requireLastBuild(dir)).toEqual(record);
    expect(requireLastBuild(dir, 't1')).toEqual(record);
    expect(() => requireLastBuild(dir, 't2')).toThrow('the last build is tag t1, not t2');
  });
});

