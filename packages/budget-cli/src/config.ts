import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { z } from 'zod';
import { UsageError } from './errors.js';

/** The optional config file: `<user config dir>/mosaic-budget/config.json` (or MOSAIC_BUDGET_CONFIG). */
export const configFileSchema = z
  .object({
    api: z.url().optional(),
    token: z.string().min(1).optional(),
    dataDir: z.string().min(1).optional(),
    tenant: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    agent: z.string().min(1).optional(),
  })
  .strict();

/** See {@link configFileSchema}. */
export type ConfigFile = z.infer<typeof configFileSchema>;

/** Where the config file is read from. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MOSAIC_BUDGET_CONFIG ?? join(envPaths('mosaic-budget', { suffix: '' }).config, 'config.json');
}

/** Reads the config file; a missing file is an empty config, a malformed one is an error naming it. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ConfigFile {
  const path = configPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`the config file ${path} is not valid JSON`, 'fix or delete it');
  }
  const r = configFileSchema.safeParse(json);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new UsageError(`the config file ${path} is invalid: ${why}`, 'fix or delete it');
  }
  return r.data;
}
