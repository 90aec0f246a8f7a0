import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import envPaths from 'env-paths';
import { UsageError } from './errors.js';

/** The optional config file: `<user config dir>/mosaic-budget/config.json` (or MOSAIC_BUDGET_CONFIG). */
export interface ConfigFile {
  api?: string;
  token?: string;
  dataDir?: string;
  tenant?: string;
  host?: string;
  agent?: string;
}

const KEYS: readonly (keyof ConfigFile)[] = ['api', 'token', 'dataDir', 'tenant', 'host', 'agent'];

/** Where the config file is read from. */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MOSAIC_BUDGET_CONFIG ?? join(envPaths('mosaic-budget', { suffix: '' }).config, 'config.json');
}

// Checked by hand rather than with zod: the status line reads this file on every prompt when no URL
// is in the environment, and zod alone takes longer to load than the whole status line may (see
// docs/decisions.md). Six optional strings do not need a schema library; the URL itself is checked
// by the connection resolver like a --api flag.
function check(json: unknown): { ok: true; value: ConfigFile } | { ok: false; why: string } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, why: 'expected a JSON object' };
  }
  const value: ConfigFile = {};
  for (const [key, v] of Object.entries(json)) {
    if (!(KEYS as readonly string[]).includes(key)) return { ok: false, why: `${key}: unknown key` };
    if (typeof v !== 'string' || v === '') return { ok: false, why: `${key}: expected a non-empty string` };
    value[key as keyof ConfigFile] = v;
  }
  return { ok: true, value };
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
  const r = check(json);
  if (!r.ok) throw new UsageError(`the config file ${path} is invalid: ${r.why}`, 'fix or delete it');
  return r.value;
}
