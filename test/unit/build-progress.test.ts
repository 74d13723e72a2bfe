import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildEvent, BuildProgressParser, describeStep, sourceFetchRetry } from '../../src/docker/build-progress';
import { parsePushLine, type PushEvent } from '../../src/docker/push-progress';
import { imageProgressLines, ImageProgressTracker, isImageActivityProgress } from '../../src/images/progress';

function parse(fixture: string): { events: BuildEvent[]; parser: BuildProgressParser } {
  const parser = new BuildProgressParser();
  const lines = readFileSync(join(__dirname, '..', 'fixtures', 'buildx', fixture), 'utf8').split('\n');
  return { events: lines.flatMap((line) => parser.push(line)), parser };
}

describe('BuildProgressParser on recorded buildx 0.13 output', () => {
  it('reports Dockerfile steps with their position, and which were cached', () => {
    const { events } = parse('plain-cached.txt');
    const cached = events.filter((e) => e.type === 'cached').map((e) => describeStep(e.step));
    expect(cached).toEqual([
      '[stage-0 3/4] RUN --mount=type=secret,id=API_TOKEN test -s /run/secrets/API_TOKEN && wc -c /run/secrets/API_TOKEN > /secret-len',
      '[stage-0 2/4] RUN echo "greeting=hey" > /greeting',
      '[stage-0 4/4] COPY hello.txt /hello.txt',
    ]);
    const first = events.find((e) => e.type === 'step' && e.step.index === 1);
    expect(first).toEqual({ type: 'step', step: { vertex: 4, name: 'FROM docker.io/library/debian:bookworm-slim', index: 1, total: 4, stage: 'stage-0' } });
  });

  it('reports elapsed time of steps that ran', () => {
    const { events } = parse('plain-fresh.txt');
    const done = events.filter((e) => e.type === 'done' && e.step.index !== undefined).map((e) => [e.step.index, e.type === 'done' && e.elapsedSeconds]);
    expect(done).toEqual([[2, 0.1], [3, 0.1], [4, 0]]);
    expect(events.filter((e) => e.type === 'step' && e.step.name === 'exporting to image')).toHaveLength(1);
  });

  it('names the failing step and keeps its last output lines', () => {
    const { events, parser } = parse('plain-fail.txt');
    const error = events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ type: 'error', step: { index: 3, total: 4, name: 'RUN echo "line a"; echo "line b" >&2; exit 3' }, logs: ['line b', 'line a'] });
    expect(events.filter((e) => e.type === 'log').map((e) => e.type === 'log' && e.line)).toEqual(['one', 'line b', 'line a']);
    const failure = parser.failure();
    expect(describeStep(failure.step!)).toBe('[3/4] RUN echo "line a"; echo "line b" >&2; exit 3');
    expect(failure.logs).toEqual(['line b', 'line a']);
    expect(failure.message).toBe('failed to solve: process "/bin/sh -c echo \\"line a\\"; echo \\"line b\\" >&2; exit 3" did not complete successfully: exit code: 3');
  });

  it('reports a failure before any step with BuildKit\'s message', () => {
    const parser = new BuildProgressParser();
    ['#1 [internal] load build definition from nope', '#1 DONE 0.0s', 'ERROR: failed to solve: failed to read dockerfile: open nope: no such file or directory'].forEach(
      (l) => parser.push(l),
    );
    expect(parser.failure()).toEqual({ step: undefined, message: 'failed to solve: failed to read dockerfile: open nope: no such file or directory', logs: [] });
  });

  it('keeps only the last 20 output lines of a step', () => {
    const parser = new BuildProgressParser();
    parser.push('#5 [2/2] RUN seq 100');
    for (let i = 1; i <= 100; i++) parser.push(`#5 0.${String(i).padStart(3, '0')} ${i}`);
    const [error] = parser.push('#5 ERROR: process "/bin/sh -c seq 100" did not complete successfully: exit code: 1');
    expect(error.type === 'error' && error.logs).toEqual(Array.from({ length: 20 }, (_, i) => String(81 + i)));
  });
});

describe('a build that could not fetch the image it starts from (recorded buildx 0.13 output)', () => {
  const retryOf = (fixture: string) => sourceFetchRetry(parse(fixture).parser.failure().message);

  it('retries a registry that is down or failing', () => {
    expect(retryOf('base-registry-down.txt')).toBe('transient');
    expect(sourceFetchRetry('failed to solve: r:5000/base:1: failed to resolve source metadata for r:5000/base:1: unexpected status code 503 Service Unavailable')).toBe('transient');
  });

  it('takes a reference that does not exist, or refused credentials, as bad input', () => {
    expect(retryOf('base-not-found.txt')).toBe('bad-input');
    const refused = 'failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized';
    expect(sourceFetchRetry(`failed to solve: ghcr.io/o/base:1: failed to resolve source metadata for ghcr.io/o/base:1: ${refused}`)).toBe('bad-input');
    expect(sourceFetchRetry('failed to solve: x: failed to resolve source metadata for docker.io/library/x:1: pull access denied, repository does not exist or may require authorization')).toBe('bad-input');
  });

  it('leaves every other failure to the build (final)', () => {
    expect(retryOf('plain-fail.txt')).toBeUndefined();
  });
});

describe('parsePushLine', () => {
  it('reads layer states and the final digest', () => {
    expect(parsePushLine('5f70bf18a086: Pushed')).toEqual({ type: 'layer', layer: '5f70bf18a086', status: 'Pushed' });
    expect(parsePushLine('5f70bf18a086: Layer already exists')).toEqual({ type: 'layer', layer: '5f70bf18a086', status: 'Layer already exists' });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parsePushLine(`abc123: digest: ${digest} size: 527`)).toEqual({ type: 'pushed', tag: 'abc123', digest, size: 527 });
    expect(parsePushLine('The push refers to repository [localhost:5556/smoke/tiny]')).toBeUndefined();
  });
});

describe('BuildProgressParser warnings', () => {
  it('treats an unreadable --cache-from image as a warning, not the failing step', () => {
    const parser = new BuildProgressParser();
    parser.push('#5 importing cache manifest from localhost:5556/app:cache');
    const [event] = parser.push('#5 ERROR: failed to configure registry cache importer: unexpected status from HEAD request: 401 Unauthorized');
    expect(event).toMatchObject({ type: 'warning', message: expect.stringContaining('401 Unauthorized') });
    parser.push('ERROR: failed to solve: dockerfile parse error on line 3');
    expect(parser.failure()).toEqual({ step: undefined, message: 'failed to solve: dockerfile parse error on line 3', logs: [] });
  });
});

describe('ImageProgressTracker: the lines people see and the heartbeat details', () => {
  const step = { vertex: 6, name: 'RUN make', index: 2, total: 4 };
  const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

  it('shows Dockerfile steps, cache hits and elapsed time, and hides BuildKit internals and output lines', () => {
    const tracker = new ImageProgressTracker(() => at(0));
    expect(tracker.apply({ phase: 'build', service: 'app', event: { type: 'step', step } })).toBe('app [2/4] RUN make  running');
    expect(tracker.apply({ phase: 'build', service: 'app', event: { type: 'log', step, line: 'secret-ish output' } })).toBeUndefined();
    expect(tracker.apply({ phase: 'build', service: 'app', event: { type: 'step', step: { vertex: 1, name: '[internal] load build context' } } })).toBeUndefined();
    expect(imageProgressLines(tracker.details()!, at(7))).toEqual(['app [2/4] RUN make  running 7s']);
    expect(tracker.apply({ phase: 'build', service: 'app', event: { type: 'done', step, elapsedSeconds: 12.34 } })).toBe('app [2/4] RUN make  done 12.3s');
    expect(JSON.stringify(tracker.details())).not.toContain('secret-ish');
    expect(tracker.details()).toEqual({ phase: 'build', services: { app: { step: '[2/4] RUN make', state: 'done', startedAt: at(0).toISOString(), elapsedSeconds: 12.34 } } });
    expect(tracker.apply({ phase: 'build', service: 'db', event: { type: 'cached', step } })).toBe('db [2/4] RUN make  CACHED');
    expect(Object.keys((tracker.details() as { services: object }).services)).toEqual(['app', 'db']);
  });

  it('counts pushed layers of each image, with its size, once per layer', () => {
    const tracker = new ImageProgressTracker();
    const push = (event: PushEvent) => tracker.apply({ phase: 'push', image: 'x/app:1', event });
    expect(push({ type: 'started', bytes: 312_400_000 })).toBeUndefined();
    expect(imageProgressLines(tracker.details()!)).toEqual(['x/app:1  pushing, 312.4 MB']);
    expect(push({ type: 'layer', layer: 'aaaaaaaaaaaa', status: 'Preparing' })).toBeUndefined();
    expect(push({ type: 'layer', layer: 'bbbbbbbbbbbb', status: 'Preparing' })).toBeUndefined();
    expect(push({ type: 'layer', layer: 'aaaaaaaaaaaa', status: 'Layer already exists' })).toBe('x/app:1  pushing 1/2 layers (1 already there), 312.4 MB');
    expect(push({ type: 'layer', layer: 'bbbbbbbbbbbb', status: 'Pushing' })).toBeUndefined();
    expect(push({ type: 'layer', layer: 'bbbbbbbbbbbb', status: 'Pushed' })).toBe('x/app:1  pushing 2/2 layers (1 already there), 312.4 MB');
    expect(push({ type: 'layer', layer: 'bbbbbbbbbbbb', status: 'Pushed' })).toBeUndefined();
    expect(push({ type: 'pushed', tag: '1', digest: `sha256:${'c'.repeat(64)}`, size: 1 })).toBe(`x/app:1  pushed 2/2 layers (1 already there), 312.4 MB, sha256:${'c'.repeat(64)}`);
    expect(tracker.details()).toEqual({ phase: 'push', images: { 'x/app:1': { layers: 2, done: 2, existing: 1, bytes: 312_400_000, digest: `sha256:${'c'.repeat(64)}` } } });
  });

  it('accepts only heartbeat details of a known shape', () => {
    expect(isImageActivityProgress({ phase: 'build', services: {} })).toBe(true);
    expect(isImageActivityProgress('compose')).toBe(false);
    expect(isImageActivityProgress({ phase: 'push' })).toBe(false);
  });
});
