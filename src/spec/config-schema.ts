import { z } from 'zod';
import { MAX_VMS } from './whole-number';

/**
 * The schema of config/dev.yml. Canonical forms are listed first in each union; the others are
 * accepted because kamal-dev and Kamal 2 users already have them:
 * - `image: {devcontainer: PATH}` / `image: {name: NAME}` (canonical) or `image: PATH-OR-NAME`;
 * - `registry.username_env` / `password_env` (canonical) or Kamal's `username` / `password`,
 *   each naming a secret, also as a one-element list (`password: [KAMAL_REGISTRY_PASSWORD]`).
 */
const secretName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name like GITHUB_TOKEN');
const secretRef = z.union([secretName, z.tuple([secretName])]);
const port = z.number().int().min(1).max(65535);

const imageSection = z.union([
  z.strictObject({ devcontainer: z.string().min(1).optional(), name: z.string().min(1).optional() }),
  z.string().min(1),
]);

const registrySection = z.strictObject({
  server: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  username_env: secretName.optional(),
  password_env: secretName.optional(),
  username: secretRef.optional(),
  password: secretRef.optional(),
});

const buildCache = z.union([
  z.boolean(),
  z.strictObject({ type: z.enum(['registry']).optional(), image: z.string().min(1).optional(), options: z.string().optional() }),
]);

const buildSection = z.strictObject({
  cache: buildCache.optional(),
  args: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  secrets: z.array(secretName).optional(),
  target: z.string().min(1).optional(),
  platform: z.string().regex(/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/, 'expected os/arch, e.g. linux/amd64').optional(),
});

const sshHost = z.union([
  z.string().min(1),
  z.strictObject({ host: z.string().min(1), port: port.optional(), user: z.string().min(1).optional() }),
]);

const providerSection = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('docker'), image: z.string().min(1).optional(), base_image: z.string().min(1).optional() }),
  z.strictObject({ type: z.literal('ssh'), hosts: z.array(sshHost).min(1) }),
  z.strictObject({
    type: z.literal('upcloud'),
    zone: z.string().min(1),
    plan: z.string().min(1),
    template: z.string().min(1).optional(),
    api_url: z.url().optional(),
    username_env: secretName.optional(),
    password_env: secretName.optional(),
  }),
]);

/** Temporal's duration strings: `500ms`, `30s`, `2m`, `1h`. */
const duration = z.string().regex(/^\d+(ms|s|m|h)$/, 'expected a duration like 500ms, 30s, 2m or 1h');

const timeoutOverride = z.strictObject({
  start_to_close: duration.optional(),
  heartbeat: duration.optional(),
  maximum_attempts: z.number().int().min(1).optional(),
  initial_interval: duration.optional(),
});

/** One entry per activity profile of src/workflows/policies.ts. */
export const TIMEOUT_PROFILES = ['quick', 'long', 'upload', 'provision', 'ssh', 'verify', 'compensation'] as const;

const timeoutsSection = z.strictObject(Object.fromEntries(TIMEOUT_PROFILES.map((name) => [name, timeoutOverride.optional()])) as Record<
  (typeof TIMEOUT_PROFILES)[number],
  z.ZodOptional<typeof timeoutOverride>
>);

const temporalSection = z.strictObject({
  address: z.string().regex(/^[^\s:]+:\d+$/, 'expected host:port, e.g. 127.0.0.1:7233').optional(),
  namespace: z.string().min(1).optional(),
  task_queue: z.string().min(1).optional(),
  tls: z.union([z.boolean(), z.strictObject({ ca_path: z.string().optional(), cert_path: z.string().optional(), key_path: z.string().optional() })]).optional(),
  api_key_env: secretName.optional(),
  timeouts: timeoutsSection.optional(),
});

export const devConfigSchema = z.strictObject({
  service: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected lowercase letters, digits and dashes, starting with a letter or digit')
    .max(40)
    .optional(),
  image: imageSection.optional(),
  registry: registrySection.optional(),
  build: buildSection.optional(),
  provider: providerSection.optional(),
  vms: z.strictObject({ count: z.number().int().min(1).max(MAX_VMS).optional() }).optional(),
  ssh: z.strictObject({ user: z.string().min(1).optional(), key_path: z.string().min(1).optional(), port: port.optional() }).optional(),
  naming: z.string().includes('{index}', { message: 'must contain {index} so every VM gets its own name' }).optional(),
  temporal: temporalSection.optional(),
  compose: z.strictObject({ profiles: z.array(z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'expected a Compose profile name')).optional() }).optional(),
  on_failure: z.enum(['destroy', 'keep']).optional(),
  /** Variables that hold secrets even when their value comes from the environment, not .kamal/secrets. */
  secrets: z.array(secretName).optional(),
  /** Compose ports kept on every address of the VM; all others bind to 127.0.0.1 there. */
  public_ports: z.array(z.string().regex(/^[A-Za-z0-9_.-]+:\d+$/, 'expected "service:port", e.g. app:3000')).optional(),
  workspace: z.strictObject({ include_git: z.boolean().optional() }).optional(),
});

export type RawDevConfig = z.infer<typeof devConfigSchema>;

/** JSON Schema of config/dev.yml for editors (`kamal-dev schema`). */
export function devConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(devConfigSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, title: 'kamal-dev config/dev.yml' };
}
