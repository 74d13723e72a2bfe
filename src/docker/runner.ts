import { spawn } from 'node:child_process';
import { KamalDevError } from '../errors';
import { redact } from '../spec/redact';

export interface RunOptions {
  cwd?: string;
  /** Added to the parent's environment; the way secret values reach a child (never argv). */
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Called with each complete line of stdout and stderr as it arrives. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  signal?: AbortSignal;
  /** Values to hide from the error's argv and output tail. */
  secrets?: string[];
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

const TAIL_LINES = 30;

/** A process that exited non-zero (or could not start). Everything in it is already redacted. */
export class CommandFailedError extends Error {
  constructor(
    readonly argv: string[],
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
    readonly signalName?: string,
  ) {
    super(`${argv.slice(0, 3).join(' ')} failed (${signalName ? `signal ${signalName}` : `exit ${exitCode}`})`);
    this.name = 'CommandFailedError';
  }

  /** The last lines of stderr (or stdout when stderr is empty): what a person needs to see. */
  get tail(): string {
    return tailLines(this.stderr.trim() || this.stdout.trim(), TAIL_LINES);
  }
}

export function tailLines(text: string, count: number): string {
  return text.split('\n').slice(-count).join('\n');
}

/** Runs argv without a shell. Rejects with CommandFailedError on non-zero exit; kills the child on abort. */
export function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
  const secrets = options.secrets ?? [];
  const [command, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: options.signal,
      killSignal: 'SIGTERM',
    });
    const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
    const partial = { stdout: '', stderr: '' };
    const collect = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      chunks[stream].push(chunk);
      if (!options.onLine) return;
      const lines = (partial[stream] + chunk.toString()).split(/\r?\n|\r/);
      partial[stream] = lines.pop() ?? '';
      for (const line of lines) options.onLine(redact(line, secrets), stream);
    };
    child.stdout.on('data', collect('stdout'));
    child.stderr.on('data', collect('stderr'));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new KamalDevError('prerequisite', `${command} is not installed (not found on PATH)`, { cause: error }));
      } else {
        reject(error);
      }
    });
    child.on('close', (code, signalName) => {
      for (const stream of ['stdout', 'stderr'] as const) {
        if (options.onLine && partial[stream]) options.onLine(redact(partial[stream], secrets), stream);
      }
      const stdout = Buffer.concat(chunks.stdout).toString();
      const stderr = Buffer.concat(chunks.stderr).toString();
      if (code === 0) return resolve({ stdout, stderr });
      if (options.signal?.aborted) return; // the 'error' handler already rejected with AbortError
      reject(
        new CommandFailedError(
          argv.map((a) => redact(a, secrets)),
          code,
          redact(stdout, secrets),
          redact(stderr, secrets),
          signalName ?? undefined,
        ),
      );
    });
    child.stdin.on('error', () => undefined); // a child that exits before reading its input
    child.stdin.end(options.input ?? '');
  });
}
