import type { z } from 'zod';
import { configError, KamalDevError } from '../errors';

/** `vms.count`, `provider.hosts[0].port`: the key path people see next to the file name. */
export function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), '');
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value.length > 40 ? value.slice(0, 40) + '...' : value}"`;
  return String(value);
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  int: 'a whole number',
};

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = data;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

type Issue = z.core.$ZodIssue;

function issueMessage(issue: Issue, data: unknown): { key: string; message: string } {
  const key = keyPath(issue.path);
  const got = describeValue(valueAt(data, issue.path));
  switch (issue.code) {
    case 'invalid_type':
      return { key, message: got === 'nothing' ? `is required (${TYPE_NAMES[issue.expected] ?? issue.expected})` : `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${got}` };
    case 'unrecognized_keys':
      return { key: keyPath([...issue.path, issue.keys[0]]), message: `unknown key${issue.keys.length > 1 ? ` (also: ${issue.keys.slice(1).join(', ')})` : ''}` };
    case 'invalid_value':
      return { key, message: `expected one of ${issue.values.map((v) => String(v)).join(', ')}, got ${got}` };
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (options) return { key, message: `expected one of ${options.join(', ')}, got ${got}` };
      // The branch whose type matched is the one the person meant (e.g. a list with too many entries).
      const nested = issue.errors.map((branch) => branch[0]).find((i) => i && (i.path.length > 0 || i.code !== 'invalid_type'));
      if (nested) return issueMessage({ ...nested, path: [...issue.path, ...nested.path] } as Issue, data);
      return { key, message: `has the wrong form, got ${got}` };
    }
    case 'too_small':
      return { key, message: issue.origin === 'array' ? `needs at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}` : issue.origin === 'string' ? 'must not be empty' : `must be at least ${issue.minimum}, got ${got}` };
    case 'too_big':
      return { key, message: issue.origin === 'array' ? `takes at most ${issue.maximum} entr${issue.maximum === 1 ? 'y' : 'ies'}` : `must be at most ${issue.maximum}, got ${got}` };
    default:
      return { key, message: `${issue.message}, got ${got}` };
  }
}

/** The first schema issue as a config error naming the file and the key. */
export function schemaError(error: z.ZodError, data: unknown, file: string, hint?: string): KamalDevError {
  const first = error.issues[0];
  const { key, message } = issueMessage(first, data);
  const more = error.issues.length > 1 ? `${error.issues.length - 1} more problem(s) after this one` : undefined;
  return configError(message, { file, key: key || undefined, description: [hint, more].filter(Boolean).join('\n') || undefined });
}
