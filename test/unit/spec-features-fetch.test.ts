import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryCredentialsFor } from '../../src/images/credentials';
import { dockerConfigCredentials } from '../../src/registry/docker-config';
import { featureCacheDir } from '../../src/spec/features-fetch';
import type { RegistryPlan } from '../../src/spec/plan';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

/** A real credential helper on PATH, as `docker` runs it: the host on stdin; it logs what it was asked. */
function helperOnPath(dir: string, name: string, script: string): NodeJS.ProcessEnv {
  const file = join(dir, 'bin', `docker-credential-${name}`);
  writeFileSync(file, `#!/bin/sh\n[ "$1" = get ] || exit 9\nhost=$(cat)\necho "$host" >> "${dir}/asked-${name}"\n${script}\n`);
  chmodSync(file, 0o755);
  return { DOCKER_CONFIG: dir, PATH: `${join(dir, 'bin')}:${process.env.PATH}` };
}

describe('registry credentials from the Docker config', () => {
  it("reads `docker login`'s stored auth for the registry host, and nothing for other hosts", async () => {
    const auth = Buffer.from('me:p:a$s').toString('base64');
    const dir = tempProject({ 'config.json': JSON.stringify({ auths: { 'registry.example.com:5000': { auth }, 'https://other.example.com': { auth } } }) });
    expect(await dockerConfigCredentials('registry.example.com:5000', { DOCKER_CONFIG: dir })).toEqual({ username: 'me', password: 'p:a$s' });
    expect(await dockerConfigCredentials('other.example.com', { DOCKER_CONFIG: dir })).toEqual({ username: 'me', password: 'p:a$s' });
    expect(await dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: dir })).toBeUndefined();
    expect(await dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: join(dir, 'none') })).toBeUndefined();
  });

  it('asks the credHelpers entry of the host, else the credsStore, as docker does (a stored auth does not win over a helper)', async () => {
    const auth = Buffer.from('stale:old').toString('base64');
    const dir = tempProject({ 'config.json': JSON.stringify({ credsStore: 'store', credHelpers: { 'ghcr.io': 'gh' }, auths: { 'ghcr.io': { auth }, 'quay.io': { auth } } }), 'bin/.keep': '' });
    helperOnPath(dir, 'gh', `echo '{"ServerURL":"'"$host"'","Username":"gh-user","Secret":"gh s3cret"}'`);
    const env = helperOnPath(dir, 'store', 'case "$host" in quay.io) echo \'{"Username":"quay-user","Secret":"q"}\';; *) echo "credentials not found in native keychain"; exit 1;; esac');
    expect(await dockerConfigCredentials('ghcr.io', env)).toEqual({ username: 'gh-user', password: 'gh s3cret' });
    expect(await dockerConfigCredentials('quay.io', env)).toEqual({ username: 'quay-user', password: 'q' });
    expect(await dockerConfigCredentials('registry.example.com', env)).toBeUndefined();
  });

  it('says which helper failed, and how, without its output beyond the first line', async () => {
    const dir = tempProject({ 'config.json': JSON.stringify({ credHelpers: { 'ghcr.io': 'broken', 'quay.io': 'missing' } }), 'bin/.keep': '' });
    const env = helperOnPath(dir, 'broken', 'echo "keychain locked" >&2; exit 3');
    await expect(dockerConfigCredentials('ghcr.io', env)).rejects.toThrow('the Docker credential helper docker-credential-broken failed for ghcr.io (exit code 3): keychain locked');
    await expect(dockerConfigCredentials('quay.io', env)).rejects.toThrow(/docker-credential-missing \(named in the Docker config\) cannot be run: docker-credential-missing is not installed/);
  });

  it("takes config/dev.yml's registry by its secret names, every other host from the Docker config", async () => {
    const dir = tempProject({ 'config.json': JSON.stringify({ credHelpers: { 'ghcr.io': 'gh' } }), 'bin/.keep': '' });
    const env = helperOnPath(dir, 'gh', `echo '{"Username":"from-helper","Secret":"h"}'`);
    const registry: RegistryPlan = { server: 'registry.example.com', namespace: 'me', local: false, usernameSecret: 'REG_USER', passwordSecret: 'REG_PASS' };
    const secrets: Record<string, string> = { REG_USER: 'me', REG_PASS: 'from-secrets' };
    const where = { registry, secretsFile: '/p/.kamal/secrets', resolveSecret: (name: string) => secrets[name] ?? '', env };
    expect(await registryCredentialsFor('registry.example.com', where)).toEqual({ username: 'me', password: 'from-secrets' });
    expect(await registryCredentialsFor('ghcr.io', where)).toEqual({ username: 'from-helper', password: 'h' });
    delete secrets.REG_PASS;
    await expect(registryCredentialsFor('registry.example.com', where)).rejects.toMatchObject({ type: 'RegistryCredentialsMissing', file: '/p/.kamal/secrets', message: 'REG_PASS is not set (the password for registry registry.example.com)' });
  });

  it('keeps fetched features in the user cache folder', () => {
    expect(featureCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/kamal-dev/features');
  });
});
