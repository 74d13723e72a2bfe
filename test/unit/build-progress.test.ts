import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BuildEvent, BuildProgressParser, describeStep } from '../../src/docker/build-progress';
import { parsePushLine } from '../../src/docker/push-progress';
import { renderBuildEvent, renderPushEvent } from '../../src/cli/commands/images';

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

describe('rendering progress for people', () => {
  const step = { vertex: 6, name: 'RUN make', index: 2, total: 4 };
  it('shows Dockerfile steps, cache hits and elapsed time, and hides BuildKit internals', () => {
    expect(renderBuildEvent('app', { type: 'step', step })).toBe('app [2/4] RUN make');
    expect(renderBuildEvent('app', { type: 'cached', step })).toBe('app [2/4] RUN make  CACHED');
    expect(renderBuildEvent('app', { type: 'done', step, elapsedSeconds: 12.34 })).toBe('app [2/4] RUN make  done 12.3s');
    expect(renderBuildEvent('app', { type: 'step', step: { vertex: 1, name: '[internal] load build context' } })).toBeUndefined();
    expect(renderPushEvent('x/app:1', { type: 'layer', layer: 'abc123def456', status: 'Preparing' })).toBeUndefined();
    expect(renderPushEvent('x/app:1', { type: 'layer', layer: 'abc123def456', status: 'Pushed' })).toBe('x/app:1  layer abc123def456 pushed');
  });
});
