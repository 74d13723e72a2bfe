import { readFileSync } from 'node:fs';
import { KamalDevError } from '../errors';
import type { ProfileOverrides } from '../workflows/types';
import { DEFAULT_SHARED_QUEUE } from './queues';

/** config/dev.yml `temporal:` (all optional): a self-hosted cluster or Temporal Cloud instead of the embedded server. */
export interface TemporalConfig {
  address?: string;
  namespace?: string;
  /** mTLS client certificate and key (PEM file paths). */
  tlsCert?: string;
  tlsKey?: string;
  /** Name of the environment variable that holds the API key (Temporal Cloud); the key itself never goes in config. */
  apiKeyEnv?: string;
  taskQueue?: string;
  /** Web UI base, for links (default: the embedded server's). */
  uiUrl?: string;
  /** Per-profile timeout/retry overrides (quick, long, provision, ssh, verify, compensation). */
  timeouts?: ProfileOverrides;
}

export interface TemporalSettings {
  /** Absent: use 127.0.0.1:7233, starting the embedded dev server when nothing answers there. */
  address?: string;
  namespace: string;
  tls?: { certPath: string; keyPath: string };
  apiKeyEnv: string;
  sharedQueue: string;
  uiUrl: string;
  profiles?: ProfileOverrides;
}

export const EMBEDDED_ADDRESS = '127.0.0.1:7233';
export const EMBEDDED_UI = 'http://127.0.0.1:8233';

/** The environment wins over config, with the variable names the `temporal` CLI uses. */
export function temporalSettings(config: TemporalConfig = {}, env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const certPath = env.TEMPORAL_TLS_CERT ?? config.tlsCert;
  const keyPath = env.TEMPORAL_TLS_KEY ?? config.tlsKey;
  if (Boolean(certPath) !== Boolean(keyPath)) {
    throw new KamalDevError('config', 'a TLS client certificate needs its key, and the key its certificate', {
      key: 'temporal.tlsCert/tlsKey',
      description: 'Set both temporal.tlsCert and temporal.tlsKey in config/dev.yml (or TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY).',
    });
  }
  return {
    address: env.TEMPORAL_ADDRESS ?? config.address,
    namespace: env.TEMPORAL_NAMESPACE ?? config.namespace ?? 'default',
    tls: certPath && keyPath ? { certPath, keyPath } : undefined,
    apiKeyEnv: config.apiKeyEnv ?? 'TEMPORAL_API_KEY',
    sharedQueue: env.KAMAL_DEV_TASK_QUEUE ?? config.taskQueue ?? DEFAULT_SHARED_QUEUE,
    uiUrl: config.uiUrl ?? EMBEDDED_UI,
    profiles: config.timeouts,
  };
}

export interface ConnectOptions {
  address: string;
  tls?: boolean | { clientCertPair: { crt: Buffer; key: Buffer } };
  apiKey?: string;
}

/** What Connection.connect and NativeConnection.connect both take; reads the certificate files. */
export function connectOptions(settings: TemporalSettings, env: NodeJS.ProcessEnv = process.env): ConnectOptions {
  const address = settings.address ?? EMBEDDED_ADDRESS;
  const apiKey = env[settings.apiKeyEnv] || undefined;
  if (settings.tls) {
    return { address, tls: { clientCertPair: { crt: readPem(settings.tls.certPath), key: readPem(settings.tls.keyPath) } }, apiKey };
  }
  return apiKey ? { address, tls: true, apiKey } : { address };
}

function readPem(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new KamalDevError('config', `cannot read ${path}`, { key: 'temporal.tlsCert/tlsKey', description: (error as Error).message, cause: error });
  }
}
