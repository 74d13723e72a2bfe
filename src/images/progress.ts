import { BuildEvent, describeStep } from '../docker/build-progress';
import type { PushEvent } from '../docker/push-progress';

/** One event of a build or a push, as buildImages and pushImages report them. */
export type ImageProgress = { phase: 'build'; service: string; event: BuildEvent } | { phase: 'push'; image: string; event: PushEvent };

/** The current Dockerfile step of one service's build. */
export interface BuildStepState {
  /** `[3/7] RUN bundle install` */
  step: string;
  state: 'running' | 'cached' | 'done';
  /** When the step started (the worker's clock), so a reader can show how long it has been running. */
  startedAt: string;
  elapsedSeconds?: number;
}

export interface PushState {
  /** Layers docker push has named so far, and of those the ones in the registry now. */
  layers: number;
  done: number;
  /** Of `done`, the layers the registry had already. */
  existing: number;
  /** The image's size in the engine (docker push prints no byte counts when not on a terminal). */
  bytes?: number;
  digest?: string;
}

/**
 * What the build and push activities heartbeat: step names, counts and sizes only (never output
 * lines), so the CLI can show them after --attach and when the activity runs on another worker.
 */
export type ImageActivityProgress = { phase: 'build'; services: Record<string, BuildStepState> } | { phase: 'push'; images: Record<string, PushState> };

const LAYER_DONE = /^(Pushed|Layer already exists|Mounted from .*)$/;

/** Folds progress events into the heartbeat details; `apply` returns the log line an event is worth, if any. */
export class ImageProgressTracker {
  private readonly services: Record<string, BuildStepState> = {};
  private readonly images: Record<string, PushState> = {};
  private readonly layerStates = new Map<string, Map<string, string>>();
  private phase: 'build' | 'push' | undefined;

  constructor(private readonly now: () => Date = () => new Date()) {}

  apply(progress: ImageProgress): string | undefined {
    this.phase = progress.phase;
    return progress.phase === 'build' ? this.applyBuild(progress.service, progress.event) : this.applyPush(progress.image, progress.event);
  }

  details(): ImageActivityProgress | undefined {
    if (this.phase === 'build') return { phase: 'build', services: { ...this.services } };
    if (this.phase === 'push') return { phase: 'push', images: { ...this.images } };
    return undefined;
  }

  private applyBuild(service: string, event: BuildEvent): string | undefined {
    if (event.type === 'warning') return `${service} warning: ${event.message}`;
    if (event.step.index === undefined || (event.type !== 'step' && event.type !== 'cached' && event.type !== 'done')) return undefined;
    const step = describeStep(event.step);
    const current = this.services[service];
    const startedAt = current?.step === step ? current.startedAt : this.now().toISOString();
    const state = event.type === 'step' ? 'running' : event.type === 'cached' || current?.state === 'cached' ? 'cached' : 'done';
    this.services[service] = { step, state, startedAt, ...(event.type === 'done' ? { elapsedSeconds: event.elapsedSeconds } : {}) };
    return buildLine(service, this.services[service]);
  }

  private applyPush(image: string, event: PushEvent): string | undefined {
    const push = (this.images[image] ??= { layers: 0, done: 0, existing: 0 });
    if (event.type === 'started') {
      push.bytes = event.bytes;
      return undefined;
    }
    if (event.type === 'pushed') {
      push.digest = event.digest;
      return pushLine(image, push);
    }
    const layers = this.layerStates.get(image) ?? new Map<string, string>();
    this.layerStates.set(image, layers);
    const wasDone = LAYER_DONE.test(layers.get(event.layer) ?? '');
    layers.set(event.layer, event.status);
    push.layers = layers.size;
    if (wasDone || !LAYER_DONE.test(event.status)) return undefined;
    push.done += 1;
    if (event.status === 'Layer already exists') push.existing += 1;
    return pushLine(image, push);
  }
}

/** `app [3/7] RUN bundle install  done 4.2s`; with `now`, a running step shows how long it has run. */
export function buildLine(service: string, state: BuildStepState, now?: Date): string {
  const running = now ? ` ${Math.max(0, Math.round((now.getTime() - Date.parse(state.startedAt)) / 1000))}s` : '';
  const status = state.state === 'cached' ? 'CACHED' : state.state === 'done' ? `done ${(state.elapsedSeconds ?? 0).toFixed(1)}s` : `running${running}`;
  return `${service} ${state.step}  ${status}`;
}

/** `localhost:5555/x/app:abc  pushing 3/7 layers (2 already there), 312.4 MB` */
export function pushLine(image: string, state: PushState): string {
  const size = state.bytes !== undefined ? `, ${formatBytes(state.bytes)}` : '';
  const existing = state.existing ? ` (${state.existing} already there)` : '';
  if (state.digest) return `${image}  pushed ${state.done}/${state.layers} layers${existing}${size}, ${state.digest}`;
  // Before docker push has named a layer there is nothing to count yet: no `0/0`.
  if (state.layers === 0) return `${image}  pushing${size}`;
  return `${image}  pushing ${state.done}/${state.layers} layers${existing}${size}`;
}

/** The lines of an activity's latest heartbeat, one per service built or image pushed. */
export function imageProgressLines(details: ImageActivityProgress, now?: Date): string[] {
  if (details.phase === 'build') return Object.entries(details.services).map(([service, state]) => buildLine(service, state, now));
  return Object.entries(details.images).map(([image, state]) => pushLine(image, state));
}

/** Heartbeat details are whatever the worker sent: only a shape this version knows is shown. */
export function isImageActivityProgress(value: unknown): value is ImageActivityProgress {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (v.phase === 'build' && typeof v.services === 'object' && v.services !== null) || (v.phase === 'push' && typeof v.images === 'object' && v.images !== null);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
