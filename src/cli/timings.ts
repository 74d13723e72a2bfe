/**
 * Where a command's own time goes before its workflow runs, for `--verbose`: each mark is the time
 * since the process started (performance.now() counts from there), so the first one includes
 * Node's start and the loading of kamal-dev's modules.
 */
export class StartupTimings {
  private readonly marks: [string, number][] = [];

  /** `shown`: the command said --verbose. */
  constructor(readonly shown = false) {}

  mark(step: string): void {
    this.marks.push([step, performance.now()]);
  }

  /** `node 40ms, modules 180ms, plan 310ms, ...`: each step's own share. */
  line(): string {
    const node = performance.nodeTiming.bootstrapComplete;
    const steps = [['node', node] as [string, number], ...this.marks.map(([step, at], i): [string, number] => [step, at - (i === 0 ? node : this.marks[i - 1][1])])];
    return `startup: ${steps.map(([step, ms]) => `${step} ${Math.round(ms)}ms`).join(', ')}, total ${Math.round(this.marks.at(-1)?.[1] ?? node)}ms`;
  }
}
