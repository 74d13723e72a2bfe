import type { Command } from 'commander';
import { CommandFailedError } from '../docker/runner';
import { isKamalDevError, KamalDevError } from '../errors';
import { type SpecWarning, warningLine } from '../spec/devcontainer-keys';

export interface GlobalOptions {
  verbose?: boolean;
  json?: boolean;
}

export interface Streams {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Every JSON document a command prints (docs/json.md): what happened, then the command's data. */
export type JsonDocument = { outcome: string } & Record<string, unknown>;

/**
 * The one way a command speaks. Its result goes to stdout: with --json exactly one document, else
 * text for people. Progress and notes go to stderr, so `--json` output stays parseable.
 */
export interface Printer {
  readonly json: boolean;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  result(document: JsonDocument, text: () => string): void;
  /** One of several documents, newline-delimited (`deploy --json --follow`, the one documented exception). */
  stream(document: JsonDocument): void;
  note(line: string): void;
}

export function printerOf(command: Command, streams: Streams = {}): Printer {
  return printer(command.optsWithGlobals<GlobalOptions>().json === true, streams);
}

export function printer(json: boolean, streams: Streams = {}): Printer {
  const stdout = streams.stdout ?? process.stdout;
  const stderr = streams.stderr ?? process.stderr;
  return {
    json,
    stdout,
    stderr,
    result(document, text) {
      if (json) stdout.write(JSON.stringify(document, null, 2) + '\n');
      else {
        const body = text();
        if (body) stdout.write(body.endsWith('\n') ? body : `${body}\n`);
      }
    },
    stream(document) {
      stdout.write(JSON.stringify(document) + '\n');
    },
    note(line) {
      stderr.write(`${line}\n`);
    },
  };
}

/**
 * What `plan`, `build` and `deploy` say about the project before they act: the variables whose
 * values are stored because they are not secrets, then what kamal-dev does not apply.
 */
export function specWarningLines({ storedEnvironment, warnings }: { storedEnvironment: string[]; warnings: SpecWarning[] }): string[] {
  const stored = storedEnvironment.length
    ? [
        `warning: ${storedEnvironment.join(', ')} from the environment or .env: not secrets, so their values are stored ` +
          "(the plan in Temporal history, the VMs' compose.yaml, image build arguments); list any secret one under secrets: in config/dev.yml",
      ]
    : [];
  return [...stored, ...warnings.map(warningLine)];
}

/** The `--json` document of any failure. */
export function errorDocument(error: KamalDevError): JsonDocument {
  return {
    outcome: 'error',
    kind: error.kind,
    message: error.location ? `${error.location}: ${error.message}` : error.message,
    description: error.description ?? null,
    ...(error.file ? { file: error.file } : {}),
    ...(error.key ? { key: error.key } : {}),
  };
}

/** Turns any failure into one readable message (and the error document with --json). Returns the exit code. */
export function reportError(error: unknown, options: GlobalOptions, streams: Streams = {}): number {
  const known = toKamalDevError(error);
  const stderr = streams.stderr ?? process.stderr;
  const document = errorDocument(known);
  if (options.json) printer(true, streams).stream(document);
  else {
    stderr.write(`error: ${document.message}\n`);
    if (known.description) stderr.write(indent(known.description) + '\n');
  }
  if (options.verbose) stderr.write(`\n${(error as Error)?.stack ?? String(error)}\n`);
  else if (known.kind === 'internal') stderr.write('(run again with --verbose for the stack trace)\n');
  return known.exitCode;
}

function toKamalDevError(error: unknown): KamalDevError {
  if (isKamalDevError(error)) return error;
  if (error instanceof CommandFailedError) {
    return new KamalDevError('internal', error.message, { description: error.tail, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new KamalDevError('internal', message, { cause: error });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}
