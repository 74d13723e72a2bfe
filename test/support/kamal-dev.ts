import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sh } from '../lab/exec';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'kamal-dev');
const exec = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The built CLI through its real entry point (package.json `bin`), as a user runs it. */
export async function kamalDev(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await exec(BIN, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      maxBuffer: 32 << 20,
      timeout: options.timeoutMs ?? 0,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A copy of an example project in a temporary folder, with its own config and secrets. */
export function exampleProject(example: string, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), `kamal-dev-e2e-${example}-`));
  cpSync(join(ROOT, 'examples', example), dir, { recursive: true, filter: (source) => !source.includes('/.kamal/') });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content, { mode: path.includes('secrets') ? 0o600 : 0o644 });
  }
  return dir;
}

/** Removes every VM container, volume and image that carries this deployment's labels. */
export async function removeDeploymentLeftovers(service: string): Promise<void> {
  const containers = await sh(['docker', 'ps', '-aq', '--filter', `label=kamal-dev.deployment=${service}`]);
  if (containers) await sh(['docker', 'rm', '-f', '-v', ...containers.split('\n')]);
  const images = await sh(['docker', 'images', '-q', '--filter', `label=kamal-dev.service=${service}`]);
  if (images) await sh(['docker', 'rmi', '-f', ...new Set(images.split('\n'))]).catch(() => undefined);
}

export async function vmContainers(service: string): Promise<string[]> {
  const names = await sh(['docker', 'ps', '-a', '--format', '{{.Names}}', '--filter', `label=kamal-dev.deployment=${service}`]);
  return names ? names.split('\n').sort() : [];
}

/** Runs a command inside a compose service of the stack on a local (docker provider) VM. */
export function execInStack(vm: string, project: string, service: string, command: string[]): Promise<string> {
  return sh(['docker', 'exec', vm, 'docker', 'compose', '-p', project, 'exec', '-T', service, ...command]);
}
