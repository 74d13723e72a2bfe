import { checkDocker } from '../../src/docker/preflight';
import { ImageError } from '../../src/images/errors';
import { pushImages } from '../../src/images/push';
import { buildPlan, resolverWith } from '../support/build-plan';
import { describeWithLab } from '../support/lab';

jest.setTimeout(60_000);

describeWithLab(['docker'], 'prerequisite checks against the real docker CLI', () => {
  const saved = { PATH: process.env.PATH, DOCKER_HOST: process.env.DOCKER_HOST };
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.DOCKER_HOST === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved.DOCKER_HOST;
  });

  it('reports the versions when everything is there', async () => {
    const versions = await checkDocker({ compose: true });
    expect(versions.engine).toMatch(/^\d+\./);
    expect(versions.buildx).toContain('buildx');
    expect(versions.compose).toMatch(/^v?2\./);
  });

  it('says docker is not installed when it is not on PATH', async () => {
    process.env.PATH = '/nonexistent';
    const error = await checkDocker().catch((e) => e);
    expect(error).toBeInstanceOf(ImageError);
    expect(error).toMatchObject({ type: 'PrerequisiteMissing', kind: 'prerequisite', message: 'docker is not installed (not found on PATH)' });
  });

  it('says the engine is not reachable, and how to start it', async () => {
    process.env.DOCKER_HOST = 'unix:///nonexistent/docker.sock';
    const error = await checkDocker().catch((e) => e);
    expect(error).toMatchObject({ type: 'PrerequisiteMissing', message: 'the Docker engine is not reachable' });
    expect(error.description).toContain('systemctl start docker');
    expect(error.description).toContain('/nonexistent/docker.sock');
  });

  it('refuses to push an image that is no longer in the engine', async () => {
    const plan = buildPlan('/tmp', { server: 'localhost:5999', namespace: 'x', local: false, usernameSecret: 'U', passwordSecret: 'P' }, 'gone');
    const images = [{ service: 'app', image: 'localhost:5999/x/app:gone', imageId: `sha256:${'0'.repeat(64)}` }];
    const error = await pushImages(plan, images, { resolveSecret: resolverWith({ U: 'u', P: 'p' }) }).catch((e) => e);
    expect(error).toMatchObject({ type: 'NoRecordedBuild', retryable: false });
  });
});
