import type { z } from 'zod';
import { UsageError } from './errors.js';

function flagName(path: PropertyKey[]): string {
  const head = path[0];
  if (typeof head !== 'string') return 'input';
  return `--${head.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Parses a command's flags with its zod schema. On failure throws a {@link UsageError} that names
 * each offending flag and what it expects; nothing has been sent or written at that point.
 */
export function parseFlags<S extends z.ZodType>(schema: S, raw: unknown, hint?: string): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `${flagName(i.path)}: ${i.message}`);
  throw new UsageError(lines.join('; '), hint ?? 'see `mosaic budget <command> --help`', {
    issues: r.error.issues,
  });
}
