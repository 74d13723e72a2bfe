import { CommandFailedError } from '../docker/runner';
import { isKamalDevError, KamalDevError } from '../errors';

export interface GlobalOptions {
  verbose?: boolean;
  json?: boolean;
}

/** Turns any failure into one readable message (and `{outcome, message, description}` with --json). Returns the exit code. */
export function reportError(error: unknown, options: GlobalOptions, stderr: NodeJS.WritableStream = process.stderr): number {
  const known = toKamalDevError(error);
  const message = known.location ? `${known.location}: ${known.message}` : known.message;
  if (options.json) {
    process.stdout.write(JSON.stringify({ outcome: 'error', kind: known.kind, message, description: known.description ?? null }) + '\n');
  } else {
    stderr.write(`error: ${message}\n`);
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
