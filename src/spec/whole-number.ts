import { configError } from '../errors';

/** How many VMs one deploy may ask for (`--count`, `vms.count`). */
export const MAX_VMS = 100;

/**
 * A whole number from 1 to `max` given for `key` (a flag such as `--count`, or a workflow input
 * that came from one): the one check and the one wording for every such number.
 */
export function wholeNumber(value: string | number, key: string, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n < 1 || n > max) throw configError(`expected a whole number from 1 to ${max}, got "${value}"`, { key });
  return n;
}
