import { KamalDevError } from '../errors';
import { LABELS } from './types';

/**
 * UpCloud label keys must be 2-32 characters of [A-Za-z0-9_-] starting with a letter or digit, and
 * values at most 255 characters, so `kamal-dev.service` cannot be stored as it is. Every other
 * character of a key becomes `_` (`kamal-dev.service` -> `kamal-dev_service`); keys read back are
 * mapped to kamal-dev's own names when they are one of LABELS.
 */
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$/;
const MAX_VALUE_LENGTH = 255;

export interface UpcloudLabel {
  key: string;
  value: string;
}

export function toUpcloudKey(key: string): string {
  const mapped = key.replace(/[^A-Za-z0-9_-]/g, '_');
  if (!KEY_PATTERN.test(mapped)) {
    throw new KamalDevError('provider', `label key "${key}" cannot be stored on an UpCloud server`, {
      description: 'UpCloud label keys are 2-32 characters of letters, digits, "_" and "-", starting with a letter or digit.',
    });
  }
  return mapped;
}

const ownKeys = new Map<string, string>(Object.values(LABELS).map((key) => [toUpcloudKey(key), key]));

export function fromUpcloudKey(key: string): string {
  return ownKeys.get(key) ?? key;
}

export function toUpcloudLabels(labels: Record<string, string>): UpcloudLabel[] {
  return Object.entries(labels).map(([key, value]) => {
    if (value.length > MAX_VALUE_LENGTH) {
      throw new KamalDevError('provider', `label ${key} is longer than UpCloud's ${MAX_VALUE_LENGTH} characters`);
    }
    return { key: toUpcloudKey(key), value };
  });
}

export function fromUpcloudLabels(labels: UpcloudLabel[]): Record<string, string> {
  return Object.fromEntries(labels.map(({ key, value }) => [fromUpcloudKey(key), value]));
}

/** `?label=k%3Dv&label=k2` for GET /server: servers carrying every one of these labels (or keys). */
export function labelQuery(labels: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(labels)) {
    params.append('label', value === undefined ? toUpcloudKey(key) : `${toUpcloudKey(key)}=${value}`);
  }
  const query = params.toString();
  return query ? `?${query}` : '';
}
