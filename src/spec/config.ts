import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { configError } from '../errors';
import { devConfigSchema, RawDevConfig, TIMEOUT_PROFILES } from './config-schema';
import { displayPath } from './paths';
import type { ProviderConfig, SshSettings } from './plan';
import { schemaError } from './schema-errors';
import { registryConfig, RegistryConfig } from './config-registry';

export const DEFAULT_CONFIG_PATH = 'config/dev.yml';
export const DEFAULT_NAMING = '{service}-{index}';

/** config/dev.yml in its canonical form, with every default filled in. */
export interface DevConfig {
  /** Absolute path, absent when the project has no config/dev.yml (then everything is a default). */
  file?: string;
  service?: string;
  /** devcontainer.json path relative to the project (image.devcontainer). */
  devcontainer?: string;
  /** image.name: the primary image's repository below the registry server. */
  imageName?: string;
  registry: RegistryConfig;
  build: {
    args: Record<string, string>;
    secrets: string[];
    target?: string;
    platform?: string;
    cache?: { image?: string; options?: string };
  };
  provider: ProviderConfig;
  vmCount?: number;
  ssh: SshSettings;
  naming: string;
  temporal: { address?: string; namespace: string; taskQueue: string; tls?: TemporalTls; apiKeySecret?: string; timeouts?: TimeoutOverrides };
  onFailure: 'destroy' | 'keep';
  /** `secrets:` names: secret wherever their value comes from (.kamal/secrets or a worker's environment). */
  secrets: string[];
  /** compose.profiles: the Compose profiles whose services are deployed too (as `--profile`). */
  composeProfiles: string[];
  /** `public_ports`: SERVICE:PORT entries published on every address of the VM (src/spec/compose-ports.ts). */
  publicPorts: string[];
  /** `workspace.include_git`: the workspace copy carries `.git`. */
  workspaceIncludesGit: boolean;
}

export type TimeoutProfile = (typeof TIMEOUT_PROFILES)[number];

/** `temporal.timeouts` in the workflows' terms: src/workflows/policies.ts applies them to its profiles. */
export interface TimeoutOverride {
  startToCloseTimeout?: string;
  heartbeatTimeout?: string;
  maximumAttempts?: number;
  initialInterval?: string;
}
export type TimeoutOverrides = Partial<Record<TimeoutProfile, TimeoutOverride>>;

export type TemporalTls = NonNullable<NonNullable<RawDevConfig['temporal']>['tls']>;

export interface LoadConfigOptions {
  /** Explicit config path (relative to the project): must exist. */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
}

export function loadConfig(projectDir: string, options: LoadConfigOptions = {}): DevConfig {
  const file = resolve(projectDir, options.configPath ?? DEFAULT_CONFIG_PATH);
  const shown = displayPath(projectDir, file);
  if (!existsSync(file)) {
    if (options.configPath) throw configError('config file not found', { file: shown, description: 'Check the path, or run `kamal-dev init` to write one.' });
    return normalizeConfig({}, undefined, shown, projectDir, options.env ?? process.env);
  }
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const pos = error.linePos?.[0];
    throw configError(`invalid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}: ${error.message.split(/ at line \d+|\n/)[0]}`, { file: shown });
  }
  const data: unknown = doc.toJS() ?? {};
  if (typeof data !== 'object' || Array.isArray(data)) throw configError('expected a mapping of keys (service:, registry:, ...)', { file: shown });
  const parsed = devConfigSchema.safeParse(data);
  if (!parsed.success) throw schemaError(parsed.error, data, shown, 'See `kamal-dev schema` for every key of config/dev.yml.');
  return normalizeConfig(parsed.data, file, shown, projectDir, options.env ?? process.env);
}

function normalizeConfig(raw: RawDevConfig, file: string | undefined, shown: string, projectDir: string, env: NodeJS.ProcessEnv): DevConfig {
  const image = typeof raw.image === 'string' ? (/\.jsonc?$/.test(raw.image) ? { devcontainer: raw.image } : { name: raw.image }) : raw.image;
  return {
    file,
    service: raw.service,
    devcontainer: image?.devcontainer,
    imageName: image?.name,
    registry: registryConfig(raw, shown),
    build: {
      args: Object.fromEntries(Object.entries(raw.build?.args ?? {}).map(([k, v]) => [k, String(v)])),
      secrets: raw.build?.secrets ?? [],
      target: raw.build?.target,
      platform: raw.build?.platform,
      cache: raw.build?.cache === true ? {} : raw.build?.cache || undefined,
    },
    provider: providerConfig(raw.provider),
    vmCount: raw.vms?.count,
    ssh: {
      user: raw.ssh?.user ?? 'root',
      port: raw.ssh?.port ?? 22,
      keyPath: expandHome(raw.ssh?.key_path ?? DEFAULT_KEY_PATH, projectDir, env),
      keyPathSetting: raw.ssh?.key_path ?? DEFAULT_KEY_PATH,
    },
    naming: raw.naming ?? DEFAULT_NAMING,
    temporal: {
      address: raw.temporal?.address,
      namespace: raw.temporal?.namespace ?? 'default',
      taskQueue: raw.temporal?.task_queue ?? 'kamal-dev',
      tls: raw.temporal?.tls,
      apiKeySecret: raw.temporal?.api_key_env,
      timeouts: timeoutOverrides(raw.temporal?.timeouts),
    },
    onFailure: raw.on_failure ?? 'destroy',
    secrets: raw.secrets ?? [],
    composeProfiles: raw.compose?.profiles ?? [],
    publicPorts: raw.public_ports ?? [],
    workspaceIncludesGit: raw.workspace?.include_git ?? false,
  };
}

function timeoutOverrides(raw: NonNullable<RawDevConfig['temporal']>['timeouts']): TimeoutOverrides | undefined {
  if (!raw) return undefined;
  const out: TimeoutOverrides = {};
  for (const name of TIMEOUT_PROFILES) {
    const o = raw[name];
    if (!o) continue;
    out[name] = Object.fromEntries(
      Object.entries({
        startToCloseTimeout: o.start_to_close,
        heartbeatTimeout: o.heartbeat,
        maximumAttempts: o.maximum_attempts,
        initialInterval: o.initial_interval,
      }).filter(([, value]) => value !== undefined),
    );
  }
  return out;
}

function providerConfig(raw: RawDevConfig['provider']): ProviderConfig {
  if (!raw || raw.type === 'docker') return { type: 'docker', image: raw?.image, baseImage: raw?.base_image };
  if (raw.type === 'ssh') return { type: 'ssh', hosts: raw.hosts.map((h) => (typeof h === 'string' ? { host: h } : h)) };
  return {
    type: 'upcloud',
    zone: raw.zone,
    plan: raw.plan,
    template: raw.template,
    apiUrl: raw.api_url,
    usernameSecret: raw.username_env ?? 'UPCLOUD_USERNAME',
    passwordSecret: raw.password_env ?? 'UPCLOUD_PASSWORD',
  };
}

const DEFAULT_KEY_PATH = '~/.ssh/id_ed25519';

/** `~/.ssh/key` from $HOME; a relative key path is relative to the project (on another worker: to its working directory). */
export function expandHome(path: string, projectDir: string, env: NodeJS.ProcessEnv): string {
  if (path === '~' || path.startsWith('~/')) return join(env.HOME ?? homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(projectDir, path);
}
