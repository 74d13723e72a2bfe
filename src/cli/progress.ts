import { imageProgressLines } from '../images/progress';
import type { DeployProgress, StepProgress, WorkspaceProgress } from '../workflows/types';

const MARK: Record<StepProgress['state'], string> = {
  pending: '·',
  running: '…',
  done: '✔',
  failed: '✖',
  compensated: '↺',
  skipped: '-',
};

/**
 * The lines of live progress: the deploy's own steps (under a running build or push, its current
 * step per service or its layers per image), then one line per VM with its current step. With `now`
 * (a terminal that redraws) a running build step shows how long it has run; without it (a log) the
 * lines change only when the step does.
 */
export function renderProgress(progress: DeployProgress, now?: Date): string[] {
  const waiting = progress.waitingForWorker ? ' (waiting for a worker)' : '';
  const lines = [`${progress.workflowId}  ${progress.phase}${waiting}${progress.service ? `  ${progress.service}:${progress.tag}` : ''}`];
  for (const step of progress.steps) {
    lines.push(`  ${stepLine(step)}`);
    if (step.state === 'running' && step.live) lines.push(...imageProgressLines(step.live, now).map((line) => `      ${line}`));
  }
  for (const vm of progress.vms) lines.push(`  ${vmLine(vm)}`);
  return lines;
}

function stepLine(step: StepProgress): string {
  const attempt = step.attempt && step.attempt > 1 ? ` (attempt ${step.attempt})` : '';
  const message = step.message ? `  ${step.message}` : '';
  return `${MARK[step.state]} ${step.name}${attempt}${message}`;
}

function vmLine(vm: WorkspaceProgress): string {
  const finished = vm.steps.filter((s) => s.state === 'done').length;
  const current = vm.steps.find((s) => s.state === 'running' || s.state === 'failed') ?? vm.steps.find((s) => s.state === 'compensated');
  const where = vm.steps.length ? ` ${finished}/${vm.steps.length}` : '';
  const detail = vm.error ? `  ${vm.error}` : current ? `  ${stepLine(current)}` : '';
  return `${vm.name.padEnd(16)} ${vm.state}${where}${detail}`;
}

/** Redraws the block in place on a terminal; elsewhere prints only the lines that changed. */
export class ProgressPrinter {
  private previous: string[] = [];
  private paused = false;

  constructor(private readonly out: NodeJS.WritableStream & { isTTY?: boolean }) {}

  /** Every refresh of a deploy's progress, drawn for this stream. */
  show(progress: DeployProgress): void {
    this.update(renderProgress(progress, this.out.isTTY ? new Date() : undefined));
  }

  /** While a question is on screen, so redraws do not overwrite it. */
  pause(): void {
    this.paused = true;
  }

  /** Draws the next block below the question instead of over it. */
  resume(): void {
    this.paused = false;
    this.previous = [];
  }

  update(block: string[]): void {
    if (this.paused) return;
    // A VM's error can span lines (the last log lines of what failed): the redraw counts real lines.
    const lines = block.flatMap((line) => line.split('\n'));
    if (this.out.isTTY) {
      if (this.previous.length) this.out.write(`\x1b[${this.previous.length}A\x1b[J`);
      this.out.write(lines.join('\n') + '\n');
    } else {
      const seen = new Set(this.previous);
      for (const line of lines) if (!seen.has(line)) this.out.write(line + '\n');
    }
    this.previous = lines;
  }
}
