import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { Command } from 'commander';
import { configError } from '../../errors';
import { DEFAULT_CONFIG_PATH } from '../../spec/config';
import { DEVCONTAINER_LOCATIONS, loadDevcontainer } from '../../spec/devcontainer';
import { serviceFromFolder } from '../../spec/resolve';
import { DEFAULT_SECRETS_PATH } from '../../spec/secrets';
import { contextOf } from '../context';
import type { CliDeps } from '../deps';
import { printer } from '../output';

export async function action(deps: CliDeps, options: { force?: boolean }, command: Command): Promise<void> {
  const context = contextOf(command);
  runInit({ projectDir: context.projectDir, force: options.force, json: context.json }, deps.stdout);
}

/** Writes config/dev.yml (only over an existing one with --force) and .kamal/secrets (never over an existing one: it holds real values). */
export function runInit(options: { projectDir: string; force?: boolean; json?: boolean }, stdout?: NodeJS.WritableStream): string[] {
  const configPath = join(options.projectDir, DEFAULT_CONFIG_PATH);
  const secretsPath = join(options.projectDir, DEFAULT_SECRETS_PATH);
  if (existsSync(configPath) && !options.force) {
    throw configError('already exists', { file: DEFAULT_CONFIG_PATH, description: 'Nothing was written. Run `kamal-dev init --force` to overwrite it.' });
  }
  const devcontainer = DEVCONTAINER_LOCATIONS.find((p) => existsSync(join(options.projectDir, p)));
  const written = [write(configPath, configTemplate(options.projectDir, devcontainer), 0o644)];
  const keptSecrets = existsSync(secretsPath);
  if (!keptSecrets) written.push(write(secretsPath, SECRETS_TEMPLATE, 0o600));
  const shown = written.map((path) => relative(options.projectDir, path));
  printer(!!options.json, { stdout }).result({ outcome: 'ok', written: shown, kept: keptSecrets ? [DEFAULT_SECRETS_PATH] : [], devcontainer: devcontainer ?? null }, () =>
    [
      ...(keptSecrets ? [`kept ${DEFAULT_SECRETS_PATH} (it is never overwritten)`] : []),
      ...shown.map((path) => `wrote ${path}`),
      devcontainer ? `found ${devcontainer}` : `no devcontainer.json found: add ${DEVCONTAINER_LOCATIONS[0]} before deploying`,
      `keep ${DEFAULT_SECRETS_PATH} out of git (add it to .gitignore)`,
    ].join('\n'),
  );
  return written;
}

function write(path: string, content: string, mode: number): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content, { mode });
  return path;
}

function configTemplate(projectDir: string, devcontainer: string | undefined): string {
  const kind = devcontainer ? describeKind(projectDir, devcontainer) : 'none found yet';
  return `# kamal-dev configuration. Every key is optional; \`kamal-dev schema\` prints the JSON Schema.
# Add "# yaml-language-server: $schema=<file>" with that output for completion in your editor.

# Names the deployment, its VMs and its images.
service: ${serviceFromFolder(projectDir)}

# The devcontainer to deploy (${kind}).
image:
  devcontainer: ${devcontainer ?? DEVCONTAINER_LOCATIONS[0]}

# Without a registry: section, images go through kamal-dev's local registry (localhost:5555).
# registry:
#   server: ghcr.io              # default; docker.io and any other host work too
#   namespace: your-github-user  # the {user} in ghcr.io/{user}/{service}-dev:{tag}
#   username_env: GITHUB_USER    # names of variables in .kamal/secrets (defaults shown)
#   password_env: GITHUB_TOKEN

# build:
#   args: {RUBY_VERSION: "3.3"}
#   secrets: [RAILS_MASTER_KEY]  # passed as --secret id=NAME, values from .kamal/secrets
#   platform: linux/amd64
#   cache: true                  # also use a registry build cache

# provider:
#   type: docker                 # local VMs (default); also ssh (hosts: [...]) and upcloud (zone:, plan:)

vms:
  count: 1

# ssh: {user: root, port: 22, key_path: ~/.ssh/id_ed25519}
# naming: "{service}-{index}"
# on_failure: destroy            # or keep, to debug a failed VM
# secrets: [API_TOKEN]           # secret even when exported in the environment instead of .kamal/secrets
# temporal: {address: 127.0.0.1:7233, namespace: default, task_queue: kamal-dev}
`;
}

function describeKind(projectDir: string, devcontainer: string): string {
  try {
    const parsed = loadDevcontainer(join(projectDir, devcontainer), projectDir);
    return parsed.kind === 'compose' ? `Docker Compose, service "${parsed.compose?.service}"` : parsed.kind;
  } catch (error) {
    return `could not be read: ${(error as Error).message}`;
  }
}

const SECRETS_TEMPLATE = `# Secrets for kamal-dev, in Kamal's format. Never commit this file.
# KEY=value, export KEY=value, quotes, # comments, \${VAR} / $VAR expansion.
# $(command) runs in a shell when secrets are loaded, e.g. TOKEN=$(op read op://dev/app/token).
# The process environment overrides what is written here.

# Registry credentials (with a registry: section in config/dev.yml):
# GITHUB_USER=your-github-user
# GITHUB_TOKEN=$(gh auth token)

# Build secrets named in build.secrets or in the compose file:
# RAILS_MASTER_KEY=$(cat config/master.key)
`;
