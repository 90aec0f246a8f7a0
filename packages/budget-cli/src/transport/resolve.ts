import { z } from 'zod';
import { readConfig } from '../config.js';
import type { GlobalFlags } from '../context.js';
import { parseFlags } from '../flags.js';
import { remoteTransport } from './remote.js';
import type { Transport } from './transport.js';

const connectionSchema = z.object({
  api: z.url({ message: 'must be a URL such as http://127.0.0.1:8787' }).optional(),
  token: z.string().min(1).optional(),
  dataDir: z.string().min(1).optional(),
  tenant: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be a tenant id such as "default"'),
});

/** Where the commands talk to: flags first, then environment, then the config file. */
export interface Connection {
  api?: string;
  token?: string;
  dataDir?: string;
  tenant: string;
}

/** Resolves flags, MOSAIC_BUDGET_* variables and the config file into one connection. */
export function resolveConnection(flags: GlobalFlags, env: NodeJS.ProcessEnv): Connection {
  const file = flags.api || env.MOSAIC_BUDGET_URL ? {} : readConfig(env);
  const raw = {
    api: flags.api ?? env.MOSAIC_BUDGET_URL ?? file.api,
    token: flags.token ?? env.MOSAIC_BUDGET_TOKEN ?? file.token,
    dataDir: flags.dataDir ?? env.MOSAIC_BUDGET_DATA_DIR ?? file.dataDir,
    tenant: flags.tenant ?? env.MOSAIC_BUDGET_TENANT ?? file.tenant ?? 'default',
  };
  const parsed = parseFlags(
    connectionSchema,
    raw,
    'pass --api URL --token T for a service, or --data-dir DIR for local mode',
  );
  const out: Connection = { tenant: parsed.tenant };
  if (parsed.api !== undefined) out.api = parsed.api;
  if (parsed.token !== undefined) out.token = parsed.token;
  if (parsed.dataDir !== undefined) out.dataDir = parsed.dataDir;
  return out;
}

/** Opens the transport for a connection: remote when a URL is known, local otherwise. */
export async function openTransport(flags: GlobalFlags, env: NodeJS.ProcessEnv): Promise<Transport> {
  const c = resolveConnection(flags, env);
  if (c.api) return remoteTransport(c.api, c.token);
  const { localTransport } = await import('./local.js');
  return localTransport({ dataDir: c.dataDir, tenant: c.tenant });
}
