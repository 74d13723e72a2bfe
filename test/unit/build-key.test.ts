import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKey } from '../../src/images/build-key';
import { contextDigest } from '../../src/images/context-digest';
import { dockerfileRefs } from '../../src/spec/dockerfile-refs';
import type { DeployPlan } from '../../src/spec/plan';
import { buildPlan } from '../support/build-plan';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A project whose Dockerfile builds FROM scratch: no base image to look up in an engine. */
function project(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kamal-dev-build-key-'));
  dirs.push(dir);
  const all = { Dockerfile: 'FROM scratch\nARG GREETING\nCOPY . /app\n', 'src/main.rb': 'puts 1\n', ...files };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const planOf = (dir: string, build: Parameters<typeof buildPlan>[3] = {}): DeployPlan =>
  buildPlan(dir, { server: 'localhost:5555', namespace: 'kd', local: true }, 'abc1234', { args: { GREETING: 'hi' }, secrets: ['TOKEN'], ...build });

describe('buildKey', () => {
  it('is the same for the same source, and changes with a context file, the Dockerfile, a build arg, the target or the revision', async () => {
    const dir = project();
    const key = await buildKey(planOf(dir), 'rev1');
    expect(await buildKey(planOf(dir), 'rev1')).toBe(key);
    expect(await buildKey(planOf(dir, { args: { GREETING: 'hello' } }), 'rev1')).not.toBe(key);
    expect(await buildKey(planOf(dir, { target: 'dev' }), 'rev1')).not.toBe(key);
    expect(await buildKey(planOf(dir), 'rev2')).not.toBe(key);
    expect(await buildKey(planOf(dir, { secrets: ['OTHER'] }), 'rev1')).not.toBe(key);
    writeFileSync(join(dir, 'src', 'main.rb'), 'puts 2\n');
    const edited = await buildKey(planOf(dir), 'rev1');
    expect(edited).not.toBe(key);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\nARG GREETING\nCOPY src /app\n');
    expect(await buildKey(planOf(dir), 'rev1')).not.toBe(edited);
  });

  it('leaves files .dockerignore keeps out of the build out of the key', async () => {
    const dir = project({ '.dockerignore': 'log\n*.tmp\n!keep.tmp\n', 'log/dev.log': 'a\n', 'x.tmp': 'a\n', 'keep.tmp': 'a\n' });
    const key = await buildKey(planOf(dir), undefined);
    writeFileSync(join(dir, 'log', 'dev.log'), 'b\n');
    writeFileSync(join(dir, 'y.tmp'), 'b\n');
    expect(await buildKey(planOf(dir), undefined)).toBe(key);
    writeFileSync(join(dir, 'keep.tmp'), 'b\n'); // taken back in by the exception
    expect(await buildKey(planOf(dir), undefined)).not.toBe(key);
  });

  it('leaves kamal-dev\'s own .kamal/ folder out: its log and state change on every run, its secrets are values', async () => {
    const dir = project({ '.kamal/kamal-dev.log': 'a\n', '.kamal/secrets': 'TOKEN=one\n' });
    const key = await buildKey(planOf(dir), undefined);
    writeFileSync(join(dir, '.kamal', 'kamal-dev.log'), 'b\n');
    writeFileSync(join(dir, '.kamal', 'secrets'), 'TOKEN=two\n');
    expect(await buildKey(planOf(dir), undefined)).toBe(key);
  });

  it('has no key for what it cannot pin down, so that build always runs', async () => {
    expect(await buildKey(planOf(project({ Dockerfile: 'FROM scratch\nADD https://example.com/x.tgz /x\n' })), undefined)).toBeUndefined();
    expect(await buildKey(planOf(project({ Dockerfile: 'FROM ${UNSET}\n' })), undefined)).toBeUndefined();
  });

  it('keys a feature by its files and options', async () => {
    const dir = project({ 'feature/install.sh': 'echo 1\n' });
    const features = { dockerfile: 'FROM base\n', metadata: '[]', features: [{ dir: '0_node', source: join(dir, 'feature'), env: 'VERSION=20\n' }] };
    const key = await buildKey(planOf(dir, { features }), undefined);
    expect(await buildKey(planOf(dir, { features: { ...features, features: [{ ...features.features[0], env: 'VERSION=22\n' }] } }), undefined)).not.toBe(key);
    writeFileSync(join(dir, 'feature', 'install.sh'), 'echo 2\n');
    expect(await buildKey(planOf(dir, { features }), undefined)).not.toBe(key);
  });
});

describe('contextDigest', () => {
  it('follows content, mode and symlink targets, not modification times', () => {
    const dir = project();
    const digest = contextDigest(dir, join(dir, 'Dockerfile'));
    writeFileSync(join(dir, 'src', 'main.rb'), 'puts 1\n'); // same bytes, new mtime
    expect(contextDigest(dir, join(dir, 'Dockerfile'))).toBe(digest);
    chmodSync(join(dir, 'src', 'main.rb'), 0o755);
    const executable = contextDigest(dir, join(dir, 'Dockerfile'));
    expect(executable).not.toBe(digest);
    symlinkSync('main.rb', join(dir, 'src', 'link'));
    expect(contextDigest(dir, join(dir, 'Dockerfile'))).not.toBe(executable);
  });

  it('gives up on a context past its budget (the build then runs, as before)', () => {
    const dir = project({ 'big.bin': 'x'.repeat(2048) });
    expect(contextDigest(dir, join(dir, 'Dockerfile'), [], { bytes: 1024, files: 100 })).toBeUndefined();
    expect(contextDigest(dir, join(dir, 'Dockerfile'), [], { bytes: 1024 * 1024, files: 2 })).toBeUndefined();
    expect(contextDigest(dir, join(dir, 'Dockerfile'), [], { bytes: 1024 * 1024, files: 100 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads <Dockerfile>.dockerignore beside the Dockerfile before the context\'s', () => {
    const dir = project({ 'docker/app.Dockerfile': 'FROM scratch\n', 'docker/app.Dockerfile.dockerignore': 'src\n', '.dockerignore': 'nothing\n' });
    const digest = contextDigest(dir, join(dir, 'docker', 'app.Dockerfile'));
    writeFileSync(join(dir, 'src', 'main.rb'), 'changed\n');
    expect(contextDigest(dir, join(dir, 'docker', 'app.Dockerfile'))).toBe(digest);
  });
});

describe('dockerfileRefs', () => {
  it('names the images a Dockerfile builds on, with build args and ARG defaults filled in', () => {
    const text = [
      'ARG BASE_IMAGE=ruby:3.3-slim',
      'ARG TOOLS',
      'FROM ${BASE_IMAGE} AS build',
      'RUN --mount=type=cache,target=/c \\',
      '    --mount=type=bind,from=busybox:1,target=/b true',
      'FROM build',
      'COPY --from=build /x /x',
      'COPY --from=0 /y /y',
      'COPY --from=$TOOLS /z /z',
    ].join('\n');
    expect(dockerfileRefs(text.split('\n').slice(0, 8).join('\n'), {})).toEqual({ images: ['ruby:3.3-slim', 'busybox:1'] });
    expect(dockerfileRefs(text.split('\n').slice(0, 3).join('\n'), { BASE_IMAGE: 'debian:bookworm-slim' })).toEqual({ images: ['debian:bookworm-slim'] });
    expect(dockerfileRefs(text, {})).toEqual({ unkeyed: '--from=$TOOLS' });
    expect(dockerfileRefs('FROM ${B:-alpine:3}\nFROM scratch\n', {})).toEqual({ images: ['alpine:3'] });
  });

  it('says what it cannot pin down', () => {
    expect(dockerfileRefs('# syntax=docker/dockerfile:1\nFROM scratch\n', {})).toEqual({ unkeyed: 'a `# syntax=` frontend' });
    expect(dockerfileRefs('FROM scratch\nADD git@github.com:a/b.git /src\n', {})).toEqual({ unkeyed: 'ADD git@github.com:a/b.git' });
    expect(dockerfileRefs('FROM $NOPE\n', {})).toEqual({ unkeyed: 'FROM $NOPE' });
  });
});
