import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const made: string[] = [];

/** A throw-away project folder holding `files` (path -> content); removed by cleanupProjects(). */
export function tempProject(files: Record<string, string>, name = 'my-app'): string {
  const root = mkdtempSync(join(tmpdir(), 'kamal-dev-spec-'));
  made.push(root);
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

export function cleanupProjects(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export const IMAGE_DEVCONTAINER = { '.devcontainer/devcontainer.json': '{"image": "debian:bookworm-slim"}' };
