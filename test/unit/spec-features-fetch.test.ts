import { join } from 'node:path';
import { dockerConfigCredentials, featureCacheDir } from '../../src/spec/features-fetch';
import { cleanupProjects, tempProject } from '../support/project';

afterAll(cleanupProjects);

describe('OCI feature credentials and cache', () => {
  it("reads `docker login`'s stored auth for the feature's registry host, and nothing for other hosts", () => {
    const auth = Buffer.from('me:p:a$s').toString('base64');
    const dir = tempProject({ 'config.json': JSON.stringify({ auths: { 'registry.example.com:5000': { auth }, 'https://other.example.com': { auth } } }) });
    expect(dockerConfigCredentials('registry.example.com:5000', { DOCKER_CONFIG: dir })).toEqual({ username: 'me', password: 'p:a$s' });
    expect(dockerConfigCredentials('other.example.com', { DOCKER_CONFIG: dir })).toEqual({ username: 'me', password: 'p:a$s' });
    expect(dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: dir })).toBeUndefined();
    expect(dockerConfigCredentials('ghcr.io', { DOCKER_CONFIG: join(dir, 'none') })).toBeUndefined();
  });

  it('keeps fetched features in the user cache folder', () => {
    expect(featureCacheDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/kamal-dev/features');
  });
});
