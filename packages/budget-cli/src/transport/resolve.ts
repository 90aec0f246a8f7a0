import type { GlobalFlags } from '../context.js';
import { UsageError } from '../errors.js';
import { remoteTransport } from './remote.js';
import type { Transport } from './transport.js';

/** Where the commands talk to: flags first, then environment, then the config file. */
export interface Connection {
  api?: string;
  token?: string;
  dataDir?: string;
  tenant: string;
}

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const HINT = 'pass --api URL --token T for a service, or --data-dir DIR for local mode';

// Checked by hand rather than with zod: this runs before every command, including the status line
// that must start fast, and two fields do not need a schema library.
function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--api: "${url}" is not a URL such as http://127.0.0.1:8787`, HINT);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`--api: "${url}" must be an http or https URL`, HINT);
  }
  return url;
}

/** Resolves flags, MOSAIC_BUDGET_* variables and the config file into one connection. */
export async function resolveConnection(flags: GlobalFlags, env: NodeJS.ProcessEnv): Promise<Connection> {
  const direct = flags.api ?? env.MOSAIC_BUDGET_URL;
  // The config file is read only when neither a flag nor the environment names a service.
  const file = direct ? {} : (await import('../config.js')).readConfig(env);
  const api = direct ?? file.api;
  const token = flags.token ?? env.MOSAIC_BUDGET_TOKEN ?? file.token;
  const dataDir = flags.dataDir ?? env.MOSAIC_BUDGET_DATA_DIR ?? file.dataDir;
  const tenant = flags.tenant ?? env.MOSAIC_BUDGET_TENANT ?? file.tenant ?? 'default';
  if (!TENANT.test(tenant) || tenant.length > 128) {
    throw new UsageError(`--tenant: "${tenant}" must be a tenant id such as "default"`, HINT);
  }
  const out: Connection = { tenant };
  if (api) out.api = checkUrl(api);
  if (token) out.token = token;
  if (dataDir) out.dataDir = dataDir;
  return out;
}

/** Opens the transport for a connection: remote when a URL is known, local otherwise. */
export async function openTransport(flags: GlobalFlags, env: NodeJS.ProcessEnv): Promise<Transport> {
  const c = await resolveConnection(flags, env);
  if (c.api) return remoteTransport(c.api, c.token);
  const { localTransport } = await import('./local.js');
  return localTransport({ dataDir: c.dataDir, tenant: c.tenant });
}
