import { configError } from '../errors';
import { placeholdersIn, replacePlaceholders, secretPlaceholder } from './compose-secrets';
import type { LifecycleStep } from './devcontainer-vars';

/**
 * How a lifecycle command gets its secrets without their values ever being in an argv (which the
 * VM's process list and the command's error would show): the values go into a mode-600 env file
 * (`docker exec --env-file`), and each `${localEnv:NAME}` of a command reads the variable
 * `__KAMAL_DEV_SECRET_NAME__` from it. A shell command refers to it as `${__KAMAL_DEV_SECRET_NAME__}`
 * (so it expands where a shell variable does, not inside single quotes); an argv command that holds
 * one runs through `/bin/sh -c` with every other part quoted.
 */
export interface LifecycleExec {
  command: string[];
  /** Variables without a secret in them: passed as `--env NAME=VALUE`. */
  env: Record<string, string>;
  /** Variables with a secret in them: written to the env file. */
  secretEnv: Record<string, string>;
}

export function lifecycleExec(step: LifecycleStep, remoteEnv: Record<string, string>, values: Record<string, string>): LifecycleExec {
  const env: Record<string, string> = {};
  const secretEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(remoteEnv)) {
    if (placeholdersIn(value).length === 0) env[name] = value;
    else secretEnv[name] = replacePlaceholders(value, (secret) => valueOf(secret, values));
  }
  const used = placeholdersIn('shell' in step ? step.shell : step.argv);
  for (const secret of used) secretEnv[secretPlaceholder(secret)] = valueOf(secret, values);
  const command =
    'shell' in step
      ? ['/bin/sh', '-c', replacePlaceholders(step.shell, (secret) => '${' + secretPlaceholder(secret) + '}')]
      : used.length > 0
        ? ['/bin/sh', '-c', step.argv.map(shellWord).join(' ')]
        : step.argv;
  return { command, env, secretEnv };
}

/** One argv entry as a shell word: literal parts single-quoted, each secret a double-quoted variable. */
function shellWord(arg: string): string {
  const quoted = `'${arg.replace(/'/g, `'\\''`)}'`;
  return replacePlaceholders(quoted, (secret) => `'"\${${secretPlaceholder(secret)}}"'`);
}

/** docker's env file is one NAME=VALUE per line, taken literally. */
export function execEnvFileContent(secretEnv: Record<string, string>): string {
  return Object.entries(secretEnv)
    .map(([name, value]) => `${name}=${value}\n`)
    .join('');
}

function valueOf(secret: string, values: Record<string, string>): string {
  const value = values[secret];
  if (value === undefined) throw new Error(`secret ${secret} was not resolved for a lifecycle command`);
  if (/[\r\n]/.test(value)) {
    throw configError(`secret ${secret} holds a line break, which a devcontainer.json remoteEnv value or lifecycle command cannot take`, {
      key: secret,
      description: 'docker exec reads its environment file one line per variable. Use a one-line value (base64 for binary data).',
    });
  }
  return value;
}
