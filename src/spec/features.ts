import { configError } from '../errors';
import { placeholdersIn } from './compose-secrets';

/**
 * Dev Container Features (containers.dev/implementors/features): the pure part. A reference is
 * a local folder (`./features/x`, relative to devcontainer.json), an OCI reference
 * (`registry/namespace/feature[:tag|@digest]`) or a tarball URL (`https://.../feature.tgz`).
 */
export type FeatureSource =
  | { type: 'local'; path: string }
  | { type: 'oci'; registry: string; repository: string; tag: string; digest?: string }
  /** `id`: from the file name `devcontainer-feature-ID.tgz`, which the reference CLI requires and takes the id from. */
  | { type: 'tarball'; url: string; id: string };

export type OptionValue = string | boolean;

export interface FeatureOption {
  type: 'boolean' | 'string';
  default?: OptionValue;
  enum?: string[];
  proposals?: string[];
}

/** devcontainer-feature.json, the keys kamal-dev reads. */
export interface FeatureManifest {
  id: string;
  version?: string;
  name?: string;
  options?: Record<string, FeatureOption>;
  dependsOn?: Record<string, Record<string, OptionValue> | string | boolean>;
  installsAfter?: string[];
  [metadata: string]: unknown;
}

/** One `features` entry of devcontainer.json, as written. */
export interface FeatureRequest {
  /** The key in devcontainer.json's `features`. */
  ref: string;
  options: Record<string, OptionValue>;
}

export function parseFeatureSource(ref: string, where: { file: string; key: string }): FeatureSource {
  if (ref.startsWith('./') || ref.startsWith('../')) return { type: 'local', path: ref };
  if (/^https?:\/\//i.test(ref)) return tarballSource(ref, where);
  const match = /^([a-z0-9.-]+(?::\d+)?)\/([a-z0-9._/-]+?)(?::([\w.-]+)|@(sha256:[a-f0-9]{64}))?$/.exec(ref);
  if (!match || !match[1].includes('.') && !match[1].startsWith('localhost')) {
    throw configError(`"${ref}" is not a feature reference`, {
      ...where,
      description: 'A feature is a local folder ("./features/name", next to devcontainer.json), an OCI reference ("ghcr.io/owner/features/name:1") or a tarball URL ("https://example.com/devcontainer-feature-name.tgz").',
    });
  }
  return { type: 'oci', registry: match[1], repository: match[2], tag: match[3] ?? 'latest', ...(match[4] ? { digest: match[4] } : {}) };
}

function tarballSource(ref: string, where: { file: string; key: string }): FeatureSource {
  let url: URL;
  try {
    url = new URL(ref);
  } catch {
    throw configError(`"${ref}" is not a URL`, where);
  }
  if (url.protocol !== 'https:') {
    throw configError(`a tarball feature is fetched over https only (as the reference CLI does), not ${url.protocol.replace(':', '')}`, { ...where, description: `Serve it over https: "https://${url.host}${url.pathname}".` });
  }
  const id = /devcontainer-feature-(.*)\.tgz/.exec(url.pathname.slice(url.pathname.lastIndexOf('/') + 1))?.[1];
  if (!id || !/^[a-zA-Z0-9_-]+$/.test(id)) {
    throw configError('a tarball feature\'s file is named devcontainer-feature-ID.tgz (ID: letters, digits, - and _)', {
      ...where,
      description: '`devcontainer features package` writes it so; the reference CLI takes the feature id from the name.',
    });
  }
  return { type: 'tarball', url: ref, id };
}

/** `features` values: an object of options, a string (the `version` option), or true (defaults). */
export function featureRequests(features: Record<string, unknown>, file: string): FeatureRequest[] {
  return Object.entries(features).map(([ref, value]) => {
    const key = `features.${ref}`;
    if (value === true || value === undefined) return { ref, options: {} };
    if (typeof value === 'string') return { ref, options: { version: value } };
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [name, option] of Object.entries(value)) {
        if (typeof option !== 'string' && typeof option !== 'boolean') throw configError(`option ${name}: expected a string or true/false`, { file, key: `${key}.${name}` });
      }
      return { ref, options: value as Record<string, OptionValue> };
    }
    throw configError('expected an object of options, a version string or true', { file, key });
  });
}

/**
 * The options a feature installs with: the user's values over the defaults, each checked against
 * its declared type and enum. An option the feature does not declare is an error (a typo would
 * otherwise install silently with the default).
 */
export function resolveOptions(manifest: FeatureManifest, given: Record<string, OptionValue>, where: { file: string; key: string }): Record<string, OptionValue> {
  const declared = manifest.options ?? {};
  for (const name of Object.keys(given)) {
    if (!(name in declared)) {
      throw configError(`feature ${manifest.id} has no option "${name}"`, { ...where, key: `${where.key}.${name}`, description: `Its options: ${Object.keys(declared).join(', ') || 'none'}.` });
    }
  }
  return Object.fromEntries(
    Object.entries(declared).map(([name, option]) => {
      const value = given[name] ?? option.default ?? (option.type === 'boolean' ? false : '');
      const key = `${where.key}.${name}`;
      const secret = placeholdersIn(value)[0];
      if (secret) {
        throw configError(`takes the secret ${secret}: a feature's options are written into the image, where anyone who pulls it reads them`, {
          ...where,
          key,
          description: `Give the secret to the container instead (containerEnv, remoteEnv or a lifecycle command: \${localEnv:${secret}}), or use a build secret.`,
        });
      }
      if (option.type === 'boolean' && typeof value !== 'boolean') throw configError(`expected true or false, got ${JSON.stringify(value)}`, { ...where, key });
      if (option.type === 'string' && typeof value !== 'string') throw configError(`expected a string, got ${JSON.stringify(value)}`, { ...where, key });
      if (option.enum && !option.enum.includes(value as string)) throw configError(`expected one of ${option.enum.join(', ')}, got ${JSON.stringify(value)}`, { ...where, key });
      return [name, value];
    }),
  );
}

/** The spec's environment variable name of an option: non-word characters to `_`, no leading digits, upper case. */
export function optionVariable(name: string): string {
  return name.replace(/[^\w_]/g, '_').replace(/^[\d_]+/g, '_').toUpperCase();
}

/** `devcontainer-features.env` for install.sh: one `NAME="value"` line per option, quoted for /bin/sh. */
export function optionsEnvFile(options: Record<string, OptionValue>): string {
  return Object.entries(options)
    .map(([name, value]) => `${optionVariable(name)}="${String(value).replace(/(["\\$`])/g, '\\$1')}"\n`)
    .join('');
}
