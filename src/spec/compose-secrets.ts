/**
 * How secret values stay out of the plan: devcontainer.json's substitution and the Compose
 * normaliser see every secret NAME (secretNamesOf in resolve-parts.ts) set to a placeholder, never to
 * its value. Wherever a placeholder survives into the compose model, the transform writes `${NAME}`
 * back and lists NAME in StackPlan.secrets; on the VM, Compose interpolates it from the mode-600
 * secrets env file (`docker compose --env-file`). Placeholders in remoteEnv and lifecycle commands
 * stay as they are (LifecyclePlan.secrets) and are filled in from another 600 file
 * (lifecycle-secrets.ts). Every other variable is interpolated here, from this machine's environment and .env.
 */
const PREFIX = '__KAMAL_DEV_SECRET_';
const SUFFIX = '__';
const PLACEHOLDER = /__KAMAL_DEV_SECRET_([A-Za-z_][A-Za-z0-9_]*?)__/g;

export function secretPlaceholder(name: string): string {
  return `${PREFIX}${name}${SUFFIX}`;
}

/** The environment additions for the normaliser: NAME -> placeholder. */
export function placeholderEnv(names: Iterable<string>): Record<string, string> {
  return Object.fromEntries([...names].map((n) => [n, secretPlaceholder(n)]));
}

/** Names whose placeholder occurs anywhere in the value. */
export function placeholdersIn(value: unknown): string[] {
  return [...new Set([...JSON.stringify(value ?? null).matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** Replaces every placeholder in every string of a JSON value by what `reference` makes of its name. */
export function replacePlaceholders<T>(value: T, reference: (name: string) => string): T {
  if (typeof value === 'string') return value.replace(PLACEHOLDER, (_, name: string) => reference(name)) as T;
  if (Array.isArray(value)) return value.map((v) => replacePlaceholders(v, reference)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replacePlaceholders(v, reference)])) as T;
  }
  return value;
}

/** Replaces placeholders by devcontainer.json's own `${localEnv:NAME}`: the form an image's label keeps, so no value lands in it. */
export function localEnvReferences<T>(value: T): T {
  return replacePlaceholders(value, (name) => '${localEnv:' + name + '}');
}

/** Replaces placeholders by `${NAME}` (interpolated on the VM) in every string; collects the names. */
export function restoreSecretReferences<T>(value: T, found: Set<string>): T {
  return replacePlaceholders(value, (name) => {
    found.add(name);
    return '${' + name + '}';
  });
}

