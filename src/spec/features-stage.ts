import type { FeatureManifest, FeatureSource, OptionValue } from './features';

/** A feature ready to install: fetched, its options resolved, its place in the order known. */
export interface ResolvedFeature {
  /** As devcontainer.json (or a dependsOn) names it. */
  ref: string;
  source: FeatureSource;
  manifest: FeatureManifest;
  options: Record<string, OptionValue>;
  /** The folder in the generated build context that holds its files (`1_node`). */
  dir: string;
  /** sha256 of what was fetched: the OCI manifest digest, or of the folder's files. */
  digest: string;
}

/** Feature metadata the label records (containerEnv is not among them: it is in the image as ENV). */
export const FEATURE_METADATA_KEYS = [
  'mounts',
  'init',
  'privileged',
  'capAdd',
  'securityOpt',
  'entrypoint',
  'customizations',
  'onCreateCommand',
  'updateContentCommand',
  'postCreateCommand',
  'postStartCommand',
  'postAttachCommand',
] as const;

export interface StageUsers {
  containerUser?: string;
  remoteUser?: string;
}

/** Build arg: the USER of the base image (the builder reads it), the default container user, restored after the installs. */
export const IMAGE_USER_ARG = '_DEV_CONTAINERS_IMAGE_USER';
export const BASE_IMAGE_ARG = '_DEV_CONTAINERS_BASE_IMAGE';

const FEATURES_DIR = '/tmp/dev-container-features';

/**
 * The Dockerfile stage that installs the features on top of the base image, one COPY + RUN per
 * feature in install order: an unchanged feature set on an unchanged base is all cache hits, and a
 * change re-runs only the features from the changed one on. install.sh runs as root with its
 * options (devcontainer-features.env) and the spec's _CONTAINER_USER/_REMOTE_USER (+ _HOME).
 */
export function featuresDockerfile(features: ResolvedFeature[], users: StageUsers): string {
  const containerUser = users.containerUser ? quoteEnv(users.containerUser) : `"\${${IMAGE_USER_ARG}}"`;
  const remoteUser = users.remoteUser ? quoteEnv(users.remoteUser) : containerUser;
  const lines = [
    `ARG ${BASE_IMAGE_ARG}`,
    `FROM $${BASE_IMAGE_ARG}`,
    `ARG ${IMAGE_USER_ARG}=root`,
    'USER root',
    `ENV _CONTAINER_USER=${containerUser} _REMOTE_USER=${remoteUser}`,
  ];
  for (const feature of features) {
    const dir = `${FEATURES_DIR}/${feature.dir}`;
    lines.push(
      `COPY --chown=root:root ${feature.dir}/ ${dir}/`,
      `RUN cd ${dir} && chmod +x ./install.sh && set -a && . ./devcontainer-features.env && set +a && ` +
        `export _CONTAINER_USER_HOME="$(getent passwd "$_CONTAINER_USER" | cut -d: -f6)" _REMOTE_USER_HOME="$(getent passwd "$_REMOTE_USER" | cut -d: -f6)" && ./install.sh`,
    );
    const env = Object.entries((feature.manifest.containerEnv as Record<string, string> | undefined) ?? {});
    if (env.length) lines.push(`ENV ${env.map(([k, v]) => `${k}=${quoteEnv(v)}`).join(' ')}`);
  }
  lines.push(`USER $${IMAGE_USER_ARG}`);
  return lines.join('\n') + '\n';
}

/** A value for a Dockerfile ENV line: double-quoted, `${VAR}` references left for the builder to expand as the spec allows. */
function quoteEnv(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}

/**
 * The `devcontainer.metadata` label as the reference CLI writes it: what the base image already
 * carried, then one entry per feature in install order (`id` and its metadata keys), then the
 * devcontainer.json's own entry; an entry with nothing in it is left out.
 */
export function metadataLabel(baseEntries: Record<string, unknown>[], features: ResolvedFeature[], own: Record<string, unknown>): string {
  const entries = [
    ...baseEntries,
    ...features.map((f) => ({ id: f.ref, ...Object.fromEntries(FEATURE_METADATA_KEYS.filter((k) => f.manifest[k] !== undefined).map((k) => [k, f.manifest[k]])) })),
    own,
  ].filter((entry) => Object.keys(entry).length > 0);
  return JSON.stringify(entries);
}

/** devcontainer.json keys the reference CLI records in its own entry of the metadata label. */
export const OWN_METADATA_KEYS = ['remoteUser', 'containerUser', 'containerEnv', 'remoteEnv', 'mounts', 'init', 'privileged', 'capAdd', 'securityOpt', 'overrideCommand', 'updateRemoteUserUID', 'userEnvProbe', 'customizations', 'forwardPorts', 'portsAttributes', 'otherPortsAttributes', 'hostRequirements', 'waitFor', 'onCreateCommand', 'updateContentCommand', 'postCreateCommand', 'postStartCommand', 'postAttachCommand'] as const;

export function ownMetadata(raw: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(OWN_METADATA_KEYS.filter((k) => raw[k] !== undefined).map((k) => [k, raw[k]]));
}
