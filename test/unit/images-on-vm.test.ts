import { repositoryOf } from '../../src/remote/imagesOnVm';

describe('repositoryOf: an image reference as Docker names it in RepoDigests', () => {
  test.each([
    ['localhost:5555/kamal-dev/app:abc123', 'localhost:5555/kamal-dev/app'],
    ['localhost:5555/lab/postgres', 'localhost:5555/lab/postgres'],
    ['ghcr.io/me/app-dev@sha256:0123', 'ghcr.io/me/app-dev'],
    ['ghcr.io/me/app-dev:v1@sha256:0123', 'ghcr.io/me/app-dev'],
    ['postgres:15', 'postgres'],
  ])('%s -> %s', (image, repository) => expect(repositoryOf(image)).toBe(repository));
});
