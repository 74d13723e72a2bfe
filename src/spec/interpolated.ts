/**
 * Which variables a project's files take from the environment, so `plan` can say which values it
 * stores (every value that is not a secret is written into the plan, and so into Temporal history
 * and the VMs' compose.yaml). Read from the text: a reference inside a YAML comment counts too.
 */
const COMPOSE_REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)/g;
const DEVCONTAINER_REFERENCE = /\$\{(?:localEnv|env):([A-Za-z_][A-Za-z0-9_]*)/g;

/** `${NAME}`, `${NAME:-default}`, `$NAME` in a compose file (`$$` is a literal dollar). */
export function composeVariables(text: string): string[] {
  return unique([...text.matchAll(COMPOSE_REFERENCE)].map((m) => m[1] ?? m[2]));
}

/** `${localEnv:NAME}` and `${env:NAME}` in devcontainer.json. */
export function devcontainerVariables(text: string): string[] {
  return unique([...text.matchAll(DEVCONTAINER_REFERENCE)].map((m) => m[1]));
}

/** The referenced names set in the environment or Compose's `.env` that are not secrets: their values go into the plan. */
export function storedEnvironmentValues(referenced: string[], env: NodeJS.ProcessEnv, secretNames: Set<string>, dotEnvNames: string[] = []): string[] {
  const set = new Set(dotEnvNames);
  return unique(referenced.filter((name) => (env[name] !== undefined || set.has(name)) && !secretNames.has(name))).sort();
}

/** The names a Compose `.env` file sets (`NAME=...`, `export NAME=...`); none when there is no file. */
export function dotEnvNames(text: string | undefined): string[] {
  if (text === undefined) return [];
  return unique(text.split('\n').map((line) => /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1]));
}

function unique(names: (string | undefined)[]): string[] {
  return [...new Set(names.filter((n): n is string => !!n))];
}
