/**
 * Reads `docker buildx build --progress=plain` output into events. Vertices are numbered (`#6`);
 * Dockerfile instructions carry their position (`[stage-0 2/4] RUN ...`), BuildKit's own work
 * (`[internal] load ...`, `exporting to image`) does not.
 */
import type { RetryClass } from '../errors';

export interface BuildStep {
  /** BuildKit's vertex number within this build. */
  vertex: number;
  name: string;
  /** Position among the Dockerfile's instructions, when the step is one. */
  index?: number;
  total?: number;
  stage?: string;
}

export type BuildEvent =
  | { type: 'step'; step: BuildStep }
  | { type: 'cached'; step: BuildStep }
  | { type: 'done'; step: BuildStep; elapsedSeconds: number }
  | { type: 'log'; step: BuildStep; line: string }
  | { type: 'error'; step: BuildStep; message: string; logs: string[] }
  /** Something BuildKit carries on without, e.g. a --cache-from image it cannot read. */
  | { type: 'warning'; step: BuildStep; message: string };

export interface BuildFailure {
  /** The step that failed, when BuildKit got as far as running one. */
  step?: BuildStep;
  /** BuildKit's own summary, e.g. `failed to solve: process "..." did not complete successfully: exit code: 3`. */
  message: string;
  /** The failing step's last output lines. */
  logs: string[];
}

const LOG_LINES_KEPT = 20;
const VERTEX_LINE = /^#(\d+) (.*)$/;
const STEP_NAME = /^\[(?:(\S+) )?(\d+)\/(\d+)\] (.*)$/;
const LOG_LINE = /^\d+\.\d+ (.*)$/;

export class BuildProgressParser {
  private readonly steps = new Map<number, BuildStep>();
  private readonly logs = new Map<number, string[]>();
  private failedStep?: BuildStep;
  private finalError?: string;

  /** One line of buildx output in; the events it means out (often none). */
  push(line: string): BuildEvent[] {
    const vertexLine = VERTEX_LINE.exec(line);
    if (!vertexLine) {
      if (line.startsWith('ERROR: ')) this.finalError = line.slice('ERROR: '.length);
      return [];
    }
    const vertex = Number(vertexLine[1]);
    const rest = vertexLine[2];
    const step = this.steps.get(vertex);
    if (!step) {
      if (vertex === 0) return []; // "#0 building with "default" instance using docker driver"
      const started = parseStepName(vertex, rest);
      this.steps.set(vertex, started);
      return [{ type: 'step', step: started }];
    }
    if (rest === 'CACHED') return [{ type: 'cached', step }];
    const done = /^DONE (\d+(?:\.\d+)?)s$/.exec(rest);
    if (done) return [{ type: 'done', step, elapsedSeconds: Number(done[1]) }];
    if (rest.startsWith('ERROR: ')) {
      if (step.name.startsWith('importing cache manifest')) return [{ type: 'warning', step, message: rest.slice('ERROR: '.length) }];
      this.failedStep = step;
      return [{ type: 'error', step, message: rest.slice('ERROR: '.length), logs: this.logsOf(vertex) }];
    }
    const log = LOG_LINE.exec(rest);
    if (!log) return []; // transfer and export status lines
    const kept = this.logsOf(vertex);
    kept.push(log[1]);
    if (kept.length > LOG_LINES_KEPT) kept.shift();
    this.logs.set(vertex, kept);
    return [{ type: 'log', step, line: log[1] }];
  }

  /** What went wrong, once buildx has exited non-zero. */
  failure(): BuildFailure {
    return {
      step: this.failedStep,
      message: this.finalError ?? 'the build failed',
      logs: this.failedStep ? this.logsOf(this.failedStep.vertex) : [],
    };
  }

  private logsOf(vertex: number): string[] {
    return [...(this.logs.get(vertex) ?? [])];
  }
}

function parseStepName(vertex: number, text: string): BuildStep {
  const instruction = STEP_NAME.exec(text);
  if (!instruction) return { vertex, name: text };
  return {
    vertex,
    name: instruction[4],
    index: Number(instruction[2]),
    total: Number(instruction[3]),
    ...(instruction[1] ? { stage: instruction[1] } : {}),
  };
}

/** `[2/4] RUN make` or `[internal] load build context`: how a step reads in progress output and errors. */
export function describeStep(step: BuildStep): string {
  const position = step.index !== undefined ? `[${step.stage ? `${step.stage} ` : ''}${step.index}/${step.total}] ` : '';
  return `${position}${step.name}`;
}

const SOURCE_FETCH = /failed to resolve source metadata for \S+: (.*)$/m;
const SOURCE_REFUSED = /: not found$|manifest unknown|pull access denied|repository does not exist|unauthorized|authentication required|insufficient_scope|\bdenied\b/i;

/**
 * A build that stopped fetching an image it starts from (FROM, COPY --from), by BuildKit's summary:
 * a reference that does not exist or credentials that are refused are the user's to fix (bad input);
 * anything else on the way (connection refused or reset, timeouts, TLS, HTTP 5xx) may pass, so it is
 * retried. Undefined for every other failure.
 */
export function sourceFetchRetry(message: string): RetryClass | undefined {
  const fetch = SOURCE_FETCH.exec(message);
  if (!fetch) return undefined;
  return SOURCE_REFUSED.test(fetch[1]) ? 'bad-input' : 'transient';
}
