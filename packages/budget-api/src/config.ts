import { z } from 'zod';
import { idSchema } from '@mosaic/budget-core';

/** The service's environment, parsed once at start-up. */
export const envSchema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  BUDGET_DATA_DIR: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  BUDGET_BOOTSTRAP_TOKEN: z.string().min(16).max(512).optional(),
  BUDGET_BOOTSTRAP_TENANT: idSchema.default('default'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** See {@link envSchema}. */
export type Env = z.output<typeof envSchema>;

/** Parses the environment (throws a zod error naming every bad variable). */
export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  // Empty strings mean "unset" for every variable (a shell's `FOO= cmd`).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  return envSchema.parse(cleaned);
}
