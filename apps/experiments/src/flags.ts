// Flag parsing shared by the experiments: node's parseArgs with messages that name the flag.
import { parseArgs } from 'node:util';

export class UsageError extends Error {}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export function parseFlags(argv: string[], options: FlagSpec): Record<string, string | boolean | undefined> {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** An integer flag within [min, max]. */
export function intFlag(
  name: string,
  v: string | boolean | undefined,
  min: number,
  max: number,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

/** A comma-separated subset of `allowed`. */
export function listFlag<T extends string>(
  name: string,
  v: string | boolean | undefined,
  allowed: readonly T[],
): T[] | undefined {
  if (v === undefined) return undefined;
  const items = String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((s) => !allowed.includes(s as T));
  if (items.length === 0 || bad.length > 0)
    throw new UsageError(`--${name} takes a comma-separated list of ${allowed.join(', ')}; got '${v}'`);
  return items as T[];
}
