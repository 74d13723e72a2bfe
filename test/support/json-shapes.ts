import { z } from 'zod';

/**
 * The documented `--json` document of every command (docs/json.md), as schemas the tests check real
 * output against. Top-level objects are strict: a key that is not documented fails the test.
 */
const error = z.strictObject({
  outcome: z.literal('error'),
  kind: z.enum(['config', 'prerequisite', 'build', 'registry', 'provider', 'ssh', 'compose', 'temporal', 'state', 'internal']),
  message: z.string().min(1),
  description: z.string().nullable(),
  file: z.string().optional(),
  key: z.string().optional(),
});

const builtImage = z.strictObject({ service: z.string(), image: z.string(), imageId: z.string(), reused: z.literal(true).optional() });
const pushedImage = z.strictObject({ image: z.string(), digest: z.string().startsWith('sha256:') });
const container = z.strictObject({ service: z.string(), name: z.string(), state: z.string(), health: z.string().optional(), ports: z.array(z.string()) });
const seenContainer = container.omit({ ports: true });
const failedCommand = z.strictObject({
  hook: z.string(),
  feature: z.string().optional(),
  step: z.string().optional(),
  exitCode: z.number().int().nullable(),
  lines: z.array(z.string()),
  at: z.string(),
});
const vmHandle = z.strictObject({
  deployment: z.string(),
  name: z.string(),
  index: z.number().int(),
  id: z.string(),
  provider: z.string(),
  ssh: z.strictObject({ host: z.string(), port: z.number().int(), user: z.string() }),
  ip: z.string(),
  // Made by this run (true) or found (false); absent where no deploy made the handle.
  created: z.boolean().optional(),
  hostKey: z.string().optional(),
  status: z.enum(['running', 'stopped', 'starting', 'unknown']).optional(),
});
const step = z.object({
  name: z.string(),
  state: z.enum(['pending', 'running', 'done', 'failed', 'compensated', 'skipped']),
  attempt: z.number().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  message: z.string().optional(),
  live: z
    .union([
      z.strictObject({ phase: z.literal('build'), services: z.record(z.string(), z.object({ step: z.string(), state: z.enum(['running', 'cached', 'done']), startedAt: z.string(), elapsedSeconds: z.number().optional() })) }),
      z.strictObject({ phase: z.literal('push'), images: z.record(z.string(), z.object({ layers: z.number(), done: z.number(), existing: z.number(), bytes: z.number().optional(), digest: z.string().optional() })) }),
    ])
    .optional(),
});
const workspace = z.object({
  name: z.string(),
  workflowId: z.string(),
  state: z.enum(['pending', 'running', 'deployed', 'failed', 'cancelled']),
  steps: z.array(step),
  vm: vmHandle.optional(),
  containers: z.array(container).optional(),
  error: z.string().optional(),
});
const lifecycle = z.strictObject({
  outcome: z.enum(['ok', 'failed']),
  service: z.string(),
  vms: z.array(z.strictObject({ name: z.string(), state: z.enum(['done', 'failed']), error: z.string().optional(), vm: vmHandle.optional(), containers: z.array(container).optional() })),
});

export const JSON_SHAPES = {
  init: z.strictObject({ outcome: z.literal('ok'), written: z.array(z.string()), kept: z.array(z.string()), devcontainer: z.string().nullable() }),
  plan: z.strictObject({
    outcome: z.literal('ok'),
    kind: z.enum(['image', 'dockerfile', 'compose']),
    service: z.string(),
    composeFiles: z.array(z.string()),
    build: z.record(z.string(), z.object({ context: z.string(), dockerfile: z.string(), image: z.string() })),
    image: z.string().nullable(),
    compose: z.record(z.string(), z.unknown()),
    sync: z.object({ stackDir: z.string(), files: z.array(z.unknown()), dropped: z.array(z.unknown()) }),
    projectName: z.string(),
    tag: z.string(),
    registry: z.object({ server: z.string(), local: z.boolean() }),
    secrets: z.array(z.string()),
    lifecycleSecrets: z.array(z.string()),
    storedEnvironment: z.array(z.string()),
    ports: z.array(z.strictObject({ service: z.string(), target: z.number(), published: z.string(), hostIp: z.string(), public: z.boolean() })),
    vms: z.array(z.object({ name: z.string(), index: z.number() })),
    provider: z.object({ type: z.string() }),
    onFailure: z.enum(['destroy', 'keep']),
    initializeCommand: z.unknown(),
    lifecycle: z.unknown(),
    features: z.array(z.unknown()),
    warnings: z.array(z.object({ file: z.string(), key: z.string(), message: z.string() })),
  }),
  build: z.strictObject({ outcome: z.literal('ok'), images: z.array(builtImage) }),
  push: z.strictObject({ outcome: z.literal('ok'), images: z.array(pushedImage) }),
  deploy: z.union([
    z.strictObject({
      outcome: z.enum(['deployed', 'partial', 'failed']),
      workflowId: z.string(),
      service: z.string(),
      tag: z.string(),
      images: z.array(builtImage),
      pushed: z.array(pushedImage),
      seed: z
        .strictObject({ image: z.string(), digest: z.string().startsWith('sha256:'), pushed: z.boolean(), files: z.number().int(), bytes: z.number().int() })
        .optional(),
      vms: z.array(workspace),
    }),
    // Ctrl-C off a terminal (exit 130): workflowId only; --detach (exit 0) adds how to follow it.
    z.strictObject({ outcome: z.literal('detached'), workflowId: z.string(), webUi: z.string().optional(), attach: z.string().optional() }),
  ]),
  /** Each line of `deploy --json --follow` but the last (which is a `deploy` document or an error). */
  'deploy --follow': z.strictObject({
    outcome: z.literal('progress'),
    progress: z.object({ workflowId: z.string(), phase: z.string(), service: z.string().optional(), tag: z.string().optional(), waitingForWorker: z.boolean().optional(), steps: z.array(step), vms: z.array(workspace) }),
  }),
  deploys: z.strictObject({
    outcome: z.literal('ok'),
    deploys: z.array(
      z.strictObject({
        workflowId: z.string(),
        state: z.enum(['running', 'completed', 'failed', 'cancelled', 'terminated', 'continued_as_new', 'timed_out', 'paused', 'unknown', 'unspecified']),
        startedAt: z.iso.datetime(),
        closedAt: z.iso.datetime().nullable(),
        vms: z.strictObject({ deployed: z.number().int(), total: z.number().int().nullable() }),
        webUi: z.url(),
      }),
    ),
  }),
  list: z.strictObject({ outcome: z.literal('ok'), service: z.string(), vms: z.array(vmHandle.extend({ containers: z.array(seenContainer) })) }),
  status: z.strictObject({ outcome: z.literal('ok'), service: z.string(), vms: z.array(vmHandle.extend({ containers: z.array(container), failedCommands: z.array(failedCommand) })) }),
  stop: lifecycle,
  start: lifecycle,
  remove: lifecycle,
  cancel: z.strictObject({
    outcome: z.enum(['cancelled', 'completed', 'ended']),
    workflowId: z.string(),
    message: z.string(),
    // A deploy's VMs: removed (created by this run), kept (found), deployed (committed before the cancel).
    removed: z.array(z.string()).optional(),
    kept: z.array(z.string()).optional(),
    deployed: z.array(z.string()).optional(),
  }),
  adopt: z.strictObject({ outcome: z.literal('ok'), service: z.string(), vms: z.array(vmHandle) }),
  'ssh-config': z.union([
    z.strictObject({ outcome: z.literal('ok'), config: z.string() }),
    z.strictObject({ outcome: z.literal('ok'), file: z.string(), included: z.boolean(), hosts: z.array(z.string()), contexts: z.array(z.string()) }),
  ]),
  forward: z.strictObject({
    outcome: z.literal('forwarding'),
    forwards: z.array(
      z.strictObject({ vm: z.string(), service: z.string(), port: z.number().int(), local: z.number().int(), label: z.string().optional(), taken: z.number().int().optional() }),
    ),
  }),
  'server status': z.strictObject({
    outcome: z.literal('ok'),
    running: z.boolean(),
    pid: z.number().int().optional(),
    address: z.string(),
    ui: z.string(),
    dbFile: z.string(),
    logFile: z.string(),
  }),
  'server stop': z.strictObject({ outcome: z.literal('ok'), stopped: z.boolean() }),
  schema: z.strictObject({ outcome: z.literal('ok'), schema: z.record(z.string(), z.unknown()) }),
  error,
};

export type JsonCommand = keyof typeof JSON_SHAPES;

/** Exactly one JSON document on stdout, of the command's documented shape (or the error shape); returns it. */
export function expectJson(command: JsonCommand, stdout: string): Record<string, unknown> {
  let document: unknown;
  try {
    document = JSON.parse(stdout);
  } catch (cause) {
    throw new Error(`${command} --json printed something that is not one JSON document:\n${stdout}`, { cause });
  }
  const outcome = (document as { outcome?: unknown }).outcome;
  const shape = outcome === 'error' ? JSON_SHAPES.error : JSON_SHAPES[command];
  const checked = shape.safeParse(document);
  if (!checked.success) throw new Error(`${command} --json does not match docs/json.md: ${z.prettifyError(checked.error)}\n${stdout}`);
  return document as Record<string, unknown>;
}
