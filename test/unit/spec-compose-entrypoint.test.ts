import { primaryEntrypoint, withFeatureEntrypoints, withImageEntrypoint } from '../../src/spec/compose-entrypoint';
import { parse } from 'yaml';
import { applyImageEntrypoint } from '../../src/remote/imageEntrypoint';
import { StackInput, transformStack } from '../../src/spec/compose';
import type { DeployPlan } from '../../src/spec/plan';
import type { SshSession } from '../../src/ssh/session';

const FEATURES = ['/usr/local/share/docker-init.sh'];
const WRAPPER = withFeatureEntrypoints(FEATURES, []);
const IMAGE = { Entrypoint: ['/entry.sh', '--home=$HOME'], Cmd: ['rails', 'server', '-p', '$PORT'] };
const started = (service: Record<string, unknown>, overrideCommand = false, featureEntrypoints = FEATURES) => primaryEntrypoint(service, { featureEntrypoints, overrideCommand });

describe("the primary container's entrypoint, as the reference CLI starts it", () => {
  it('with neither entrypoint nor command in compose: the wrapper runs the image ENTRYPOINT, its CMD the command, both read later', () => {
    const { service, image } = started({ image: 'app:1' });
    expect(service).toEqual({ image: 'app:1', entrypoint: WRAPPER });
    expect(image).toEqual({ withCmd: true });
    const compose = { services: { app: service, db: { image: 'postgres' } } };
    expect(withImageEntrypoint(compose, 'app', image!, IMAGE)).toEqual({
      services: {
        app: { image: 'app:1', entrypoint: [...WRAPPER, '/entry.sh', '--home=$$HOME'], command: ['rails', 'server', '-p', '$$PORT'] },
        db: { image: 'postgres' },
      },
    });
    expect(compose.services.app.entrypoint).toEqual(WRAPPER);
  });

  it("with a command in compose: the image ENTRYPOINT, compose's command", () => {
    const { service, image } = started({ command: ['sleep', 'infinity'] });
    expect(image).toEqual({ withCmd: false });
    expect((withImageEntrypoint({ services: { app: service } }, 'app', image!, IMAGE).services as Record<string, unknown>).app).toEqual({
      entrypoint: [...WRAPPER, '/entry.sh', '--home=$$HOME'],
      command: ['sleep', 'infinity'],
    });
  });

  it('an image without ENTRYPOINT or CMD leaves the wrapper alone: it stays up', () => {
    const { service, image } = started({});
    expect(withImageEntrypoint({ services: { app: service } }, 'app', image!, { Entrypoint: null, Cmd: null })).toEqual({ services: { app: { entrypoint: WRAPPER } } });
  });

  it("with an entrypoint in compose (an empty one too): it is wrapped, nothing comes from the image, compose's command stays", () => {
    expect(started({ entrypoint: ['/own.sh'], command: ['x'] })).toEqual({ service: { entrypoint: withFeatureEntrypoints(FEATURES, ['/own.sh']), command: ['x'] } });
    expect(started({ entrypoint: '/own.sh' })).toEqual({ service: { entrypoint: withFeatureEntrypoints(FEATURES, ['/own.sh']) } });
    expect(started({ entrypoint: [] })).toEqual({ service: { entrypoint: WRAPPER } });
  });

  it('under overrideCommand: the wrapper alone, or the keep-alive without features; no command', () => {
    expect(started({ entrypoint: ['/own.sh'], command: ['x'] }, true)).toEqual({ service: { entrypoint: WRAPPER } });
    expect(started({ command: ['x'] }, true, [])).toEqual({ service: { entrypoint: ['/bin/sh', '-c', "trap 'exit 0' TERM; while sleep 1000 & wait $$!; do :; done"] } });
  });

  it('without features and overrideCommand: the service as compose has it', () => {
    expect(started({ command: ['x'] }, false, [])).toEqual({ service: { command: ['x'] } });
  });

  it("the stack plan says when the image's entrypoint is to be read, and only then", () => {
    const input = (service: Record<string, unknown>, featureEntrypoints: string[]): StackInput => ({
      model: { services: { app: service } },
      primaryService: 'app',
      projectDir: '/src/shop',
      projectName: 'shop',
      images: { app: 'ghcr.io/me/shop-dev:abc' },
      containerEnv: {},
      overrideCommand: false,
      featureEntrypoints,
      envFiles: {},
      devcontainerFile: '.devcontainer/devcontainer.json',
    });
    const stack = transformStack(input({ build: { context: '.' }, command: null, entrypoint: null }, FEATURES));
    expect(stack.imageEntrypoint).toEqual({ withCmd: true });
    expect((stack.compose.services as Record<string, unknown>).app).toEqual({ image: 'ghcr.io/me/shop-dev:abc', environment: {}, entrypoint: WRAPPER });
    expect('imageEntrypoint' in transformStack(input({ build: { context: '.' } }, []))).toBe(false);
  });
});

describe('applyImageEntrypoint on a VM', () => {
  const recording = () => {
    const calls: { run: string[][]; uploads: Record<string, string> } = { run: [], uploads: {} };
    const session = {
      run: async (argv: string[]) => (calls.run.push(argv), { exitCode: 0, stdout: `${JSON.stringify(IMAGE)}\n`, stderr: '' }),
      upload: async (target: string, content: string) => void (calls.uploads[target] = content),
    } as unknown as SshSession;
    return { calls, session };
  };
  const deployPlan = (stack: Partial<DeployPlan['stack']>) => ({ stack: { projectName: 'shop', primaryService: 'app', compose: { services: { app: { image: 'reg/shop-dev:abc', entrypoint: WRAPPER } } }, ...stack } }) as DeployPlan;

  it("reads the pulled image's config and rewrites the live compose.yaml from the plan", async () => {
    const { calls, session } = recording();
    await applyImageEntrypoint(session, deployPlan({ imageEntrypoint: { withCmd: true } }));
    expect(calls.run).toEqual([['docker', 'image', 'inspect', '--format', '{{json .Config}}', 'reg/shop-dev:abc']]);
    expect(parse(calls.uploads['/opt/kamal-dev/shop/compose.yaml'])).toEqual({
      services: { app: { image: 'reg/shop-dev:abc', entrypoint: [...WRAPPER, '/entry.sh', '--home=$$HOME'], command: ['rails', 'server', '-p', '$$PORT'] } },
    });
  });

  it('does nothing when the plan needs nothing from the image', async () => {
    const { calls, session } = recording();
    await applyImageEntrypoint(session, deployPlan({}));
    expect(calls).toEqual({ run: [], uploads: {} });
  });
});
